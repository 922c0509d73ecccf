<?php
// Stand-ins for the two classes of spiral/roadrunner-tcp (v3 and later) that
// examples/php/ProtoContext.php builds, with their constructor and cases, so the test runs without
// Composer. A worker gets the real ones from `composer require spiral/roadrunner-tcp`.

declare(strict_types=1);

namespace Spiral\RoadRunner\Tcp;

enum TcpEvent: string
{
    case Connected = 'CONNECTED';
    case Data = 'DATA';
    case Close = 'CLOSE';
    case Unknown = 'UNKNOWN';
}

final class Request
{
    public function __construct(
        public readonly string $remoteAddr,
        public readonly TcpEvent $event,
        public readonly string $body,
        public readonly string $connectionUuid,
        public readonly string $server,
    ) {
    }
}
