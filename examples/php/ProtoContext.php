<?php

declare(strict_types=1);

namespace RrTcp;

use Rr\Tcp\V1\RequestContext;
use Rr\Tcp\V1\TcpEvent as ProtoTcpEvent;
use Spiral\RoadRunner\Tcp\Request;
use Spiral\RoadRunner\Tcp\TcpEvent;

/**
 * The request context of an rr-tcp frame in either codec, for a spiral/roadrunner-tcp worker that
 * opts into `tcp.context_codec: proto`.
 *
 * rr-tcp sends the context as JSON by default, exactly as RoadRunner does, and spiral's TcpWorker
 * reads that. With `context_codec: proto` the context is an rr.tcp.v1.RequestContext in protobuf
 * and the frame has the CODEC_PROTO flag (0x80, docs/wire.md#flags); decoding it needs the
 * generated classes of gen/php (composer package rr-tcp/proto) and google/protobuf (Debian:
 * php-google-protobuf). JSON contexts need neither: the classes are only loaded for a protobuf one.
 *
 * spiral/roadrunner-worker's Payload keeps the context (`$payload->header`) but drops the frame's
 * flags, so a worker passes the flag of its configured codec, or lets {@see detect()} tell the two
 * encodings apart:
 *
 *     $worker = \Spiral\RoadRunner\Worker::create();
 *     $tcp = new \Spiral\RoadRunner\Tcp\TcpWorker($worker);
 *     while ($payload = $worker->waitPayload()) {
 *         $request = ProtoContext::request($payload->header, $payload->body, ProtoContext::CODEC_PROTO);
 *         $tcp->respond($request->body);            // a Spiral\RoadRunner\Tcp\Request as usual
 *     }
 *
 * A worker that reads goridge frames itself (Spiral\Goridge\Frame) has the flags:
 * {@see fromFrame()}.
 */
final class ProtoContext
{
    /** FLAGS bit of a protobuf context: rr.goridge.v1.FrameFlag.FRAME_FLAG_CODEC_PROTO. */
    public const CODEC_PROTO = 0x80;

    /** The events a context names; anything else is UNKNOWN, as spiral's TcpEvent::tryFrom has it. */
    public const EVENTS = ['CONNECTED', 'DATA', 'CLOSE'];
    public const EVENT_UNKNOWN = 'UNKNOWN';

    /** The context keys, in RoadRunner's order (the fields of rr.tcp.v1.RequestContext). */
    public const KEYS = ['remote_addr', 'server', 'uuid', 'event'];

    /**
     * The context as spiral's TcpWorker has it after json_decode: remote_addr, server, uuid and
     * event (its wire string), whichever codec `$flags` names.
     *
     * @return array{remote_addr: string, server: string, uuid: string, event: string}
     * @throws \UnexpectedValueException when the context does not decode
     * @throws \LogicException for a protobuf context when the bindings are not installed
     */
    public static function decode(string $context, int $flags): array
    {
        return ($flags & self::CODEC_PROTO) !== 0 ? self::decodeProto($context) : self::decodeJson($context);
    }

    /**
     * The codec flag a context was sent with, from its first byte, for a worker that does not
     * see the frame's flags: a JSON context is an object, so it starts with `{` (0x7b); a protobuf
     * RequestContext never does, since 0x7b would open a group of field 15, which it does not have.
     */
    public static function detect(string $context): int
    {
        return ($context !== '' && $context[0] === '{') ? 0 : self::CODEC_PROTO;
    }

    /**
     * RoadRunner's JSON context.
     *
     * @return array{remote_addr: string, server: string, uuid: string, event: string}
     */
    public static function decodeJson(string $context): array
    {
        try {
            $parsed = \json_decode($context, true, 16, \JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new \UnexpectedValueException('invalid JSON context: ' . $e->getMessage(), 0, $e);
        }
        if (!\is_array($parsed)) {
            throw new \UnexpectedValueException('JSON context is not an object');
        }
        $out = [];
        foreach (self::KEYS as $key) {
            $value = $parsed[$key] ?? '';
            if (!\is_string($value)) {
                throw new \UnexpectedValueException("context key \"$key\" must be a string");
            }
            $out[$key] = $value;
        }
        if (!\in_array($out['event'], self::EVENTS, true)) {
            $out['event'] = self::EVENT_UNKNOWN;
        }
        return $out;
    }

    /**
     * A protobuf rr.tcp.v1.RequestContext.
     *
     * @return array{remote_addr: string, server: string, uuid: string, event: string}
     */
    public static function decodeProto(string $context): array
    {
        if (!\class_exists(\Google\Protobuf\Internal\Message::class) || !\class_exists(RequestContext::class)) {
            throw new \LogicException(
                'a protobuf context needs the generated classes of gen/php (Composer package rr-tcp/proto) '
                . 'and google/protobuf (Debian: php-google-protobuf) on the autoloader',
            );
        }
        $message = new RequestContext();
        try {
            $message->mergeFromString($context);
        } catch (\Exception $e) {
            throw new \UnexpectedValueException('invalid protobuf context (' . \strlen($context) . ' bytes): ' . $e->getMessage(), 0, $e);
        }
        return [
            'remote_addr' => $message->getRemoteAddr(),
            'server' => $message->getServer(),
            'uuid' => $message->getUuid(),
            'event' => self::eventName($message->getEvent()),
        ];
    }

    /** The wire string of a protobuf TcpEvent: its name without TCP_EVENT_, else UNKNOWN. */
    public static function eventName(int $event): string
    {
        try {
            $name = \substr(ProtoTcpEvent::name($event), \strlen('TCP_EVENT_'));
        } catch (\UnexpectedValueException) {
            return self::EVENT_UNKNOWN;
        }
        return \in_array($name, self::EVENTS, true) ? $name : self::EVENT_UNKNOWN;
    }

    /**
     * A goridge payload frame (Spiral\Goridge\Frame, or anything with its public payload, options
     * and flags) split at options[0] into the decoded context and the body.
     *
     * @return array{context: array{remote_addr: string, server: string, uuid: string, event: string}, body: string}
     */
    public static function fromFrame(object $frame): array
    {
        $payload = (string) ($frame->payload ?? '');
        $options = $frame->options ?? [];
        if (\count($options) !== 1) {
            throw new \UnexpectedValueException('a request frame has exactly one option, the context length; got ' . \count($options));
        }
        $length = (int) $options[0];
        if ($length < 0 || $length > \strlen($payload)) {
            throw new \UnexpectedValueException("context length $length is outside the payload of " . \strlen($payload) . ' bytes');
        }
        return [
            'context' => self::decode(\substr($payload, 0, $length), (int) $frame->flags),
            'body' => \substr($payload, $length),
        ];
    }

    /**
     * A Spiral\RoadRunner\Tcp\Request, as TcpWorker::waitRequest() makes it from a JSON context,
     * from a context in either codec. Pass `$flags = null` to tell the codecs apart by {@see detect()}.
     */
    public static function request(string $context, string $body, ?int $flags = null): Request
    {
        $decoded = self::decode($context, $flags ?? self::detect($context));
        return new Request(
            remoteAddr: $decoded['remote_addr'],
            event: TcpEvent::tryFrom($decoded['event']) ?? TcpEvent::Unknown,
            body: $body,
            connectionUuid: $decoded['uuid'],
            server: $decoded['server'],
        );
    }
}
