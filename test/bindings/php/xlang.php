<?php
/**
 * The PHP side of the cross-language tests (test/bindings/php.test.ts runs it with Debian's php-cli
 * and php-google-protobuf):
 *
 *   php xlang.php decode FIXTURE   decode ts-encoded.json with gen/php and examples/php/ProtoContext.php
 *   php xlang.php encode FIXTURE   encode the vectors of ts-encoded.json from their fields
 *   php xlang.php names            the helper's events and flag next to the schema's
 *   php xlang.php helper < CASES   ProtoContext::fromFrame, request() and detect() on frames
 *                                  given as JSON on stdin
 *   php xlang.php autoload         every class gen/php declares, loaded through composer.json's map
 *
 * Everything is printed as JSON for the TypeScript test to compare; this script asserts nothing
 * itself, so a mismatch shows up as a field-level diff in vitest.
 */

declare(strict_types=1);

require __DIR__ . '/bootstrap.php';
require __DIR__ . '/spiral-tcp-stubs.php';

use Google\Protobuf\DescriptorPool;
use Google\Protobuf\Internal\GPBType;
use Google\Protobuf\Internal\Message;
use Rr\Tcp\V1\RequestContext;
use RrTcp\ProtoContext;

const LABEL_REPEATED = 3;

function load(string $path): array
{
    return json_decode((string) file_get_contents($path), true, 64, JSON_THROW_ON_ERROR);
}

/** The generated class of a message, by its full protobuf name: rr.tcp.v1.Config is Rr\Tcp\V1\Config. */
function messageClass(string $fullName): string
{
    $class = implode('\\', array_map('ucfirst', explode('.', $fullName)));
    if (!class_exists($class)) {
        throw new RuntimeException("no generated class $class for $fullName");
    }
    return $class;
}

function accessor(string $verb, string $field): string
{
    return $verb . str_replace('_', '', ucwords($field, '_'));
}

function scalar(int $type, mixed $value): mixed
{
    return $type === GPBType::BYTES ? bin2hex($value) : $value;
}

function unscalar(int $type, mixed $value): mixed
{
    return $type === GPBType::BYTES ? (string) hex2bin($value) : $value;
}

/** Every field of a message in the neutral form of test/bindings/vectors.ts. */
function dump(Message $message): object
{
    $descriptor = DescriptorPool::getGeneratedPool()->getDescriptorByClassName(get_class($message));
    $out = new stdClass();
    for ($i = 0; $i < $descriptor->getFieldCount(); $i++) {
        $field = $descriptor->getField($i);
        $name = $field->getName();
        $value = $message->{accessor('get', $name)}();
        if ($field->isMap()) {
            $valueType = $field->getMessageType()->getField(1)->getType();
            $map = new stdClass();
            foreach ($value as $k => $v) {
                $map->{$k} = $valueType === GPBType::MESSAGE ? dump($v) : scalar($valueType, $v);
            }
            $out->{$name} = $map;
        } elseif ($field->getLabel() === LABEL_REPEATED) {
            $list = [];
            foreach ($value as $v) {
                $list[] = $field->getType() === GPBType::MESSAGE ? dump($v) : scalar($field->getType(), $v);
            }
            $out->{$name} = $list;
        } elseif ($field->getType() === GPBType::MESSAGE) {
            $out->{$name} = $value === null ? null : dump($value);
        } else {
            $out->{$name} = scalar($field->getType(), $value);
        }
    }
    return $out;
}

/** The reverse of dump: sets every field of `$message` from its neutral form. */
function fill(Message $message, array $fields): Message
{
    $descriptor = DescriptorPool::getGeneratedPool()->getDescriptorByClassName(get_class($message));
    for ($i = 0; $i < $descriptor->getFieldCount(); $i++) {
        $field = $descriptor->getField($i);
        $name = $field->getName();
        $value = $fields[$name];
        if ($field->isMap()) {
            $valueField = $field->getMessageType()->getField(1);
            $map = $message->{accessor('get', $name)}();
            // Sorted keys, as the TypeScript encoder writes the vectors' maps.
            ksort($value, SORT_STRING);
            foreach ($value as $k => $v) {
                $map[(string) $k] = $valueField->getType() === GPBType::MESSAGE
                    ? fill(new ($valueField->getMessageType()->getClass())(), $v)
                    : unscalar($valueField->getType(), $v);
            }
        } elseif ($field->getLabel() === LABEL_REPEATED) {
            $list = $message->{accessor('get', $name)}();
            foreach ($value as $v) {
                $list[] = $field->getType() === GPBType::MESSAGE
                    ? fill(new ($field->getMessageType()->getClass())(), $v)
                    : unscalar($field->getType(), $v);
            }
        } elseif ($field->getType() === GPBType::MESSAGE) {
            // Present even when every field is zero (a Duration of 0s is not "unset").
            if ($value !== null) {
                $message->{accessor('set', $name)}(fill(new ($field->getMessageType()->getClass())(), $value));
            }
        } else {
            $message->{accessor('set', $name)}(unscalar($field->getType(), $value));
        }
    }
    return $message;
}

function decode(string $path): array
{
    $fixture = load($path);
    $contexts = [];
    foreach ($fixture['contexts'] as $vector) {
        $message = new RequestContext();
        $message->mergeFromString((string) hex2bin($vector['proto_hex']));
        $contexts[] = [
            'name' => $vector['name'],
            // Through the generated getters, as a worker author would read them.
            'proto_fields' => [
                'remote_addr' => $message->getRemoteAddr(),
                'server' => $message->getServer(),
                'uuid' => $message->getUuid(),
                'event' => $message->getEvent(),
            ],
            // Through the helper, with the flags of each codec.
            'proto_request' => ProtoContext::decode((string) hex2bin($vector['proto_hex']), ProtoContext::CODEC_PROTO),
            'json_request' => ProtoContext::decode((string) hex2bin($vector['json_hex']), 0),
        ];
    }
    $messages = [];
    foreach ($fixture['messages'] as $vector) {
        $message = new (messageClass($vector['type']))();
        $message->mergeFromString((string) hex2bin($vector['proto_hex']));
        $messages[] = ['name' => $vector['name'], 'type' => $vector['type'], 'fields' => dump($message)];
    }
    return ['contexts' => $contexts, 'messages' => $messages];
}

function encode(string $path): array
{
    $fixture = load($path);
    $contexts = [];
    foreach ($fixture['contexts'] as $vector) {
        $f = $vector['fields'];
        $message = new RequestContext([
            'remote_addr' => $f['remote_addr'],
            'server' => $f['server'],
            'uuid' => $f['uuid'],
            'event' => $f['event'],
        ]);
        $contexts[] = ['name' => $vector['name'], 'proto_hex' => bin2hex($message->serializeToString())];
    }
    $messages = [];
    foreach ($fixture['messages'] as $vector) {
        $message = fill(new (messageClass($vector['type']))(), $vector['fields']);
        $messages[] = ['name' => $vector['name'], 'type' => $vector['type'], 'proto_hex' => bin2hex($message->serializeToString())];
    }
    return [
        'about' => 'Encoded by PHP (gen/php via php-google-protobuf, test/bindings/php/xlang.php) from the fields of ts-encoded.json, for TypeScript to decode field by field.',
        'contexts' => $contexts,
        'messages' => $messages,
    ];
}

function names(): array
{
    $schema = [];
    foreach ((new ReflectionClass(Rr\Tcp\V1\TcpEvent::class))->getConstants() as $name => $value) {
        if ($value !== 0) {
            $schema[] = substr($name, strlen('TCP_EVENT_'));
        }
    }
    return [
        'events' => ProtoContext::EVENTS,
        'schema_events' => $schema,
        'codec_proto' => ProtoContext::CODEC_PROTO,
        'schema_codec_proto' => Rr\Goridge\V1\FrameFlag::FRAME_FLAG_CODEC_PROTO,
    ];
}

/** Runs `$fn`; its result, or the class and message of what it threw. */
function attempt(callable $fn): array
{
    try {
        return ['ok' => $fn()];
    } catch (Throwable $e) {
        return ['error' => get_class($e), 'message' => $e->getMessage()];
    }
}

/** The cases on stdin: [{name, flags, options, payload_hex}], frames as Spiral\Goridge\Frame has them. */
function helper(): array
{
    $out = [];
    foreach (json_decode((string) stream_get_contents(STDIN), true, 16, JSON_THROW_ON_ERROR) as $case) {
        $frame = (object) ['flags' => $case['flags'], 'options' => $case['options'], 'payload' => (string) hex2bin($case['payload_hex'])];
        $split = attempt(static fn () => ProtoContext::fromFrame($frame));
        $context = isset($case['options'][0]) ? substr($frame->payload, 0, $case['options'][0]) : '';
        $body = isset($case['options'][0]) ? substr($frame->payload, $case['options'][0]) : '';
        $out[] = [
            'name' => $case['name'],
            'from_frame' => isset($split['ok']) ? ['context' => $split['ok']['context'], 'body_hex' => bin2hex($split['ok']['body'])] : $split,
            'detect' => ProtoContext::detect($context),
            'request' => attempt(static function () use ($context, $body): array {
                $r = ProtoContext::request($context, $body);
                return ['remoteAddr' => $r->remoteAddr, 'event' => $r->event->value, 'body_hex' => bin2hex($r->body), 'connectionUuid' => $r->connectionUuid, 'server' => $r->server];
            }),
        ];
    }
    return $out;
}

/** Every class, interface or enum a file of gen/php declares, and whether the autoloader finds it. */
function autoload(): array
{
    $root = dirname(__DIR__, 3) . '/gen/php';
    $found = [];
    $missing = [];
    $files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS));
    foreach ($files as $file) {
        if ($file->getExtension() !== 'php' || str_starts_with(substr($file->getPathname(), strlen($root)), '/vendor/')) {
            continue;
        }
        $code = (string) file_get_contents($file->getPathname());
        preg_match('/^namespace\s+([^;]+);/m', $code, $ns);
        preg_match('/^(?:final\s+)?(?:class|interface|enum)\s+(\w+)/m', $code, $name);
        $class = ($ns[1] ?? '') . '\\' . ($name[1] ?? '?');
        if (class_exists($class) || interface_exists($class) || enum_exists($class)) {
            $found[] = $class;
        } else {
            $missing[] = $class . ' (' . substr($file->getPathname(), strlen($root) + 1) . ')';
        }
    }
    sort($found);
    return ['loaded' => $found, 'missing' => $missing];
}

$command = $argv[1] ?? '';
$result = match (true) {
    $command === 'decode' && $argc === 3 => decode($argv[2]),
    $command === 'encode' && $argc === 3 => encode($argv[2]),
    $command === 'names' => names(),
    $command === 'helper' => helper(),
    $command === 'autoload' => autoload(),
    default => null,
};
if ($result === null) {
    fwrite(STDERR, "usage: php xlang.php decode|encode FIXTURE | names | helper < CASES | autoload\n");
    exit(2);
}
echo json_encode($result, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
