"""A TCP worker for rr-tcp and RoadRunner, in Python: the relay, the pid handshake, the event loop.

Standard library only for RoadRunner's JSON context (frame flags 0x00). A server configured with
`tcp.context_codec: proto` sends the context as protobuf rr.tcp.v1.RequestContext (flag 0x80);
decoding that needs the generated bindings (the package rr-tcp-proto in gen/python) and Debian's
python3-protobuf, which are imported the first time such a frame arrives, so JSON-only workers never
need them.

    from rr_tcp_worker import TcpWorker, WRITE
    TcpWorker.from_env().serve(lambda request: (WRITE, request.body))
"""

import json
import os
import socket
import sys
from typing import Any, BinaryIO, Callable, Dict, NamedTuple, Optional, Tuple, Union

import goridge

# RoadRunner's wire strings: the events in the context, the verbs a worker answers with. They are
# the schema's enum value names without their prefix (TCP_EVENT_DATA -> DATA); the cross-language
# tests check that against gen/python.
EVENT_CONNECTED = "CONNECTED"
EVENT_DATA = "DATA"
EVENT_CLOSE = "CLOSE"
# What PHP's TcpEvent::tryFrom yields for anything else.
EVENT_UNKNOWN = "UNKNOWN"
EVENTS = (EVENT_CONNECTED, EVENT_DATA, EVENT_CLOSE)

WRITE = "WRITE"
WRITECLOSE = "WRITECLOSE"
CONTINUE = "CONTINUE"
CLOSE = "CLOSE"
VERBS = (WRITE, WRITECLOSE, CONTINUE, CLOSE)

# The context keys in RoadRunner's order (the fields of rr.tcp.v1.RequestContext).
CONTEXT_KEYS = ("remote_addr", "server", "uuid", "event")

# Where the generated bindings are in this repository, for when rr-tcp-proto is not installed;
# RR_TCP_GEN_PYTHON points elsewhere.
DEFAULT_GEN_PYTHON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "gen", "python")


class ContextError(Exception):
    """A request context that cannot be decoded."""


class Request(NamedTuple):
    remote_addr: str
    server: str
    uuid: str
    event: str
    body: bytes
    # "json" or "proto": how the server encoded the context.
    codec: str


Reply = Union[str, Tuple[str, bytes]]


def decode_json_context(data: bytes) -> Dict[str, str]:
    """RoadRunner's JSON context: {"remote_addr":..,"server":..,"uuid":..,"event":..}."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ContextError(f"invalid JSON context {data[:200]!r}: {err}") from None
    if not isinstance(parsed, dict):
        raise ContextError(f"JSON context is not an object: {data[:200]!r}")
    context = {}
    for key in CONTEXT_KEYS:
        value = parsed.get(key)
        if value is not None and not isinstance(value, str):
            raise ContextError(f'context key "{key}" must be a string, got {value!r}')
        context[key] = value or ""
    if context["event"] not in EVENTS:
        context["event"] = EVENT_UNKNOWN
    return context


_tcp_pb2: Any = None


def bindings() -> Any:
    """The generated module rr.tcp.v1.tcp_pb2, imported on first use.

    From RR_TCP_GEN_PYTHON when it is set; else from the installed package rr-tcp-proto
    (`pip install ./gen/python`), or PYTHONPATH; else from this checkout's gen/python.
    """
    global _tcp_pb2
    if _tcp_pb2 is None:
        gen = os.environ.get("RR_TCP_GEN_PYTHON")
        if gen and gen not in sys.path:
            sys.path.insert(0, gen)
        try:
            from rr.tcp.v1 import tcp_pb2
        except ImportError:
            gen = gen or DEFAULT_GEN_PYTHON
            if gen not in sys.path:
                sys.path.append(gen)
            try:
                from rr.tcp.v1 import tcp_pb2
            except ImportError as err:
                raise ContextError(
                    f"a protobuf context needs the generated bindings (pip install rr-tcp-proto from gen/python, "
                    f"or {gen}) and the protobuf runtime (Debian: python3-protobuf, run with /usr/bin/python3): {err}"
                ) from None
        _tcp_pb2 = tcp_pb2
    return _tcp_pb2


def event_name(value: int) -> str:
    """The wire string of a protobuf TcpEvent: its value name without TCP_EVENT_, else UNKNOWN."""
    pb = bindings()
    try:
        name = pb.TcpEvent.Name(value)
    except ValueError:
        return EVENT_UNKNOWN
    name = name[len("TCP_EVENT_"):]
    return name if name in EVENTS else EVENT_UNKNOWN


def decode_proto_context(data: bytes) -> Dict[str, str]:
    pb = bindings()
    message = pb.RequestContext()
    try:
        message.ParseFromString(data)
    except Exception as err:  # the runtime raises DecodeError, or others with the C++ backend
        raise ContextError(f"invalid protobuf context ({len(data)} bytes): {err}") from None
    return {
        "remote_addr": message.remote_addr,
        "server": message.server,
        "uuid": message.uuid,
        "event": event_name(message.event),
    }


def decode_request(frame: goridge.Frame) -> Request:
    # A second option is the event id rr-tcp sends to a worker that echoes ids (this one says so).
    context_bytes, body = goridge.split_payload(frame, with_event_id=len(frame.options) == 2)
    if frame.flags & goridge.CODEC_PROTO:
        return Request(body=body, codec="proto", **decode_proto_context(context_bytes))
    return Request(body=body, codec="json", **decode_json_context(context_bytes))


class Relay:
    """Frames both ways over a pair of binary streams."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO, closer: Optional[Callable[[], None]] = None):
        self._reader = reader
        self._writer = writer
        self._closer = closer

    def receive(self) -> Optional[goridge.Frame]:
        return goridge.read_frame(self._reader.read)

    def send(self, frame: bytes) -> None:
        self._writer.write(frame)
        self._writer.flush()

    def close(self) -> None:
        if self._closer:
            self._closer()


def relay_from_env(relay: Optional[str] = None) -> Relay:
    """The relay RR_RELAY names: pipes (default), tcp://host:port or unix:///path.sock."""
    address = relay if relay is not None else os.environ.get("RR_RELAY", "pipes")
    if address in ("", "pipes"):
        # stdout carries frames, so it must carry nothing else: keep fd 1 for the relay on a
        # duplicate, then point fd 1 and sys.stdout at stderr, so a stray print() (or a child
        # process writing to fd 1) goes to the server's log instead of corrupting a frame.
        out = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return Relay(sys.stdin.buffer, out)
    if address.startswith("tcp://"):
        host, _, port = address[len("tcp://"):].rpartition(":")
        sock = socket.create_connection((host.strip("[]"), int(port)))
    elif address.startswith("unix://"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address[len("unix://"):])
    else:
        raise ValueError(f"RR_RELAY={address!r}: expected pipes, tcp://host:port or unix:///path")
    return Relay(sock.makefile("rb"), sock.makefile("wb"), sock.close)


class TcpWorker:
    """The worker side of the relay: one request at a time, exactly one reply to each."""

    def __init__(self, relay: Relay):
        self.relay = relay
        self._awaiting_reply = False
        # The current request's event id (rr-tcp's second option), echoed in its reply; None
        # under RoadRunner, which sends none.
        self._event_id: Optional[int] = None

    @classmethod
    def from_env(cls) -> "TcpWorker":
        return cls(relay_from_env())

    def wait_request(self) -> Optional[Request]:
        """The next request; None when the server asks the worker to stop, or the relay closes.

        Answers the pid handshake itself. A request whose context cannot be decoded is answered
        with an ERROR frame (the server then closes that client) and the wait goes on.
        """
        if self._awaiting_reply:
            raise RuntimeError("the previous request has no reply yet: the server waits for exactly one per request")
        while True:
            frame = self.relay.receive()
            if frame is None:
                return None
            if frame.flags & goridge.CONTROL:
                if self._control(frame):
                    continue
                return None
            if frame.byte10 & (goridge.BYTE10_PONG | goridge.BYTE10_STOP):
                # Stream bookkeeping, which the TCP plugin never sends; nothing to answer.
                continue
            self._event_id = frame.options[goridge.EVENT_ID_OPTION] if len(frame.options) == 2 else None
            try:
                request = decode_request(frame)
            except (ContextError, goridge.FrameError) as err:
                self.relay.send(goridge.encode_error_frame(str(err), self._event_id))
                continue
            self._awaiting_reply = True
            return request

    def _control(self, frame: goridge.Frame) -> bool:
        """Handles a control frame; False means stop."""
        try:
            command = json.loads(frame.payload)
        except ValueError:
            command = None
        if isinstance(command, dict) and command.get("pid"):
            # Flags 0x01 only, as PHP's worker answers; in socket relay mode the server matches
            # this pid to the process it spawned, so it must be our own.
            # It reads protobuf contexts too (rr.goridge.v1.ControlMessage), so rr-tcp may send
            # them, and echoes event ids, so rr-tcp can tell a late second reply from the next one.
            self.relay.send(
                goridge.encode_control_frame({"pid": os.getpid(), "context_codecs": ["proto"], "echo_event_id": True})
            )
            return True
        if isinstance(command, dict) and command.get("stop"):
            return False
        raise goridge.FrameError(f"undefined control frame {frame.payload[:200]!r}")

    def respond(self, body: bytes = b"", verb: str = WRITE) -> None:
        self._reply(self._encode_reply(verb, body))

    def _encode_reply(self, verb: str, body: bytes) -> bytes:
        if verb not in VERBS:
            raise ValueError(f"not a verb: {verb!r} (one of {', '.join(VERBS)})")
        return goridge.encode_payload_frame(verb.encode("ascii"), bytes(body), event_id=self._event_id)

    def read(self) -> None:
        """CONTINUE: keep reading from the client, write nothing."""
        self.respond(b"", CONTINUE)

    def close(self) -> None:
        """CLOSE: close the client connection."""
        self.respond(b"", CLOSE)

    def error(self, message: str) -> None:
        """An ERROR frame: the server logs it and closes the client connection."""
        self._reply(goridge.encode_error_frame(message, self._event_id))

    def _reply(self, frame: bytes) -> None:
        self.relay.send(frame)
        self._awaiting_reply = False

    def serve(self, handler: Callable[[Request], Reply]) -> int:
        """Runs `handler` for every request until stopped; returns the exit status (0).

        The handler returns a verb, or (verb, body). An exception becomes an ERROR frame and the
        worker carries on, as RoadRunner keeps a worker that reported an error.
        """
        while True:
            request = self.wait_request()
            if request is None:
                self.relay.close()
                return 0
            try:
                reply = handler(request)
                verb, body = (reply, b"") if isinstance(reply, str) else reply
                frame = self._encode_reply(verb, body)
            except Exception as err:  # any handler failure is reported to the server, not fatal
                frame = goridge.encode_error_frame(f"{type(err).__name__}: {err}", self._event_id)
            # Outside the try: a broken relay is not the handler's error, and ends the worker.
            self._reply(frame)
