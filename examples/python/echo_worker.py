#!/usr/bin/env python3
"""The echo worker in Python, the same behaviour as examples/echo-worker.ts:

    CONNECTED          -> CONTINUE
    DATA "quit\\r\\n"    -> WRITECLOSE "bye\\r\\n"   (trailing \\r\\n or \\n ignored)
    DATA anything else -> WRITE the same bytes
    CLOSE              -> CONTINUE (the server waits for a reply to CLOSE too, then ignores it)

Run by rr-tcp (or RoadRunner) with Debian's interpreter, which has python3-protobuf:

    server:
      command: "/usr/bin/python3 examples/python/echo_worker.py"
"""

import sys

from rr_tcp_worker import CONTINUE, EVENT_DATA, WRITE, WRITECLOSE, Request, Reply, TcpWorker


def without_line_end(body: bytes) -> bytes:
    if body.endswith(b"\r\n"):
        return body[:-2]
    if body.endswith(b"\n"):
        return body[:-1]
    return body


def echo(request: Request) -> Reply:
    if request.event != EVENT_DATA:
        return CONTINUE
    if without_line_end(request.body) == b"quit":
        return WRITECLOSE, b"bye\r\n"
    return WRITE, request.body


if __name__ == "__main__":
    sys.exit(TcpWorker.from_env().serve(echo))
