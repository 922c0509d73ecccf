"""goridge frames: the framing of RoadRunner's worker relay (pipes, TCP or unix socket).

Standard library only. Layout (all integers little-endian):

    0     version (high nibble, = 1) | header length in 32-bit words (low nibble, 3 + options)
    1     flags (CONTROL 0x01, ERROR 0x40, CODEC_PROTO 0x80, ...)
    2..5  payload length
    6..9  CRC32 (zlib) of bytes 0..5 only
    10    stream bits, 11 unused (both 0 for TCP)
    12..  options, 4 bytes each (at most 10)
    then  the payload

A request or reply of the TCP plugin is a payload frame: one option, the context length, and a
payload of context followed by body.
"""

import json
import struct
import zlib
from typing import Callable, NamedTuple, Optional, Sequence, Tuple

VERSION = 1

# Frame flags (byte 1).
CONTROL = 0x01
CODEC_RAW = 0x04
CODEC_JSON = 0x08
CODEC_MSGPACK = 0x10
CODEC_GOB = 0x20
ERROR = 0x40
CODEC_PROTO = 0x80

# Stream bits (byte 10); the TCP plugin uses none of them.
BYTE10_STREAM = 0x01
BYTE10_STOP = 0x02
BYTE10_PING = 0x04
BYTE10_PONG = 0x08

HEADER_SIZE = 12
MAX_OPTIONS = 10
# A payload frame's second option, between rr-tcp and a worker that echoes event ids
# (rr.goridge.v1.PayloadOption.PAYLOAD_OPTION_EVENT_ID).
EVENT_ID_OPTION = 1
# The largest payload read_frame accepts (rr-tcp's default limit): a corrupt length fails the read
# instead of making it wait for, and hold, up to 4 GiB.
MAX_PAYLOAD = 256 * 1024 * 1024

# version, header words, flags, payload length, crc, byte10, byte11
_HEADER = struct.Struct("<BBIIBB")


class FrameError(Exception):
    """A frame that cannot be decoded: bad CRC, too many options, truncated."""


class Frame(NamedTuple):
    flags: int
    options: Tuple[int, ...]
    payload: bytes
    byte10: int = 0
    byte11: int = 0
    version: int = VERSION


def header_crc(first_six: bytes) -> int:
    return zlib.crc32(first_six) & 0xFFFFFFFF


def encode_frame(flags: int, options: Sequence[int], payload: bytes, byte10: int = 0) -> bytes:
    """One frame as bytes, ready for a single write (a frame must not interleave with another)."""
    if len(options) > MAX_OPTIONS:
        raise FrameError(f"at most {MAX_OPTIONS} options, got {len(options)}")
    words = 3 + len(options)
    # The CRC covers bytes 0..5, so it is computed after the header length (which counts the
    # options) is in byte 0.
    first_six = struct.pack("<BBI", (VERSION << 4) | words, flags, len(payload))
    header = first_six + struct.pack("<IBB", header_crc(first_six), byte10, 0)
    return header + struct.pack(f"<{len(options)}I", *options) + payload


def encode_payload_frame(context: bytes, body: bytes = b"", flags: int = 0, event_id: Optional[int] = None) -> bytes:
    """A payload frame; with `event_id`, the id of the request it answers as its second option."""
    options = [len(context)] if event_id is None else [len(context), event_id]
    return encode_frame(flags, options, context + body)


def encode_control_frame(message: dict, flags: int = CONTROL) -> bytes:
    # Compact JSON, as PHP's json_encode and Go's json.Marshal write it: {"pid":123}.
    return encode_frame(flags, [], json.dumps(message, separators=(",", ":")).encode())


def encode_error_frame(message: str, event_id: Optional[int] = None) -> bytes:
    """An ERROR frame; with `event_id`, the options [0, event_id], as a payload reply carries it."""
    options = [] if event_id is None else [0, event_id]
    return encode_frame(ERROR, options, message.encode("utf-8", "replace"))


def parse_header(header: bytes) -> Tuple[int, int, int, int, int, int]:
    """(version, header words, flags, payload length, byte10, byte11) of a 12-byte header."""
    version_words, flags, length, crc, byte10, byte11 = _HEADER.unpack(header)
    if header_crc(header[:6]) != crc:
        raise FrameError(f"header CRC mismatch: stored {crc:#010x}, computed {header_crc(header[:6]):#010x} (header {header.hex()})")
    words = version_words & 0x0F
    if words < 3 or words - 3 > MAX_OPTIONS:
        raise FrameError(f"header length of {words} words: options must be 0..{MAX_OPTIONS} (header {header.hex()})")
    if length > MAX_PAYLOAD:
        raise FrameError(f"payload of {length} bytes is over the limit of {MAX_PAYLOAD} bytes (header {header.hex()})")
    return version_words >> 4, words, flags, length, byte10, byte11


def read_frame(read: Callable[[int], bytes]) -> Optional[Frame]:
    """The next frame from `read(n)` (which returns up to n bytes, b"" at end of stream).

    Returns None at end of stream between frames; raises FrameError if the stream ends inside one.
    """
    header = _read_exactly(read, HEADER_SIZE, allow_eof=True)
    if header is None:
        return None
    version, words, flags, length, byte10, byte11 = parse_header(header)
    option_bytes = _read_exactly(read, (words - 3) * 4)
    payload = _read_exactly(read, length)
    options = struct.unpack(f"<{words - 3}I", option_bytes)
    return Frame(flags, options, payload, byte10, byte11, version)


def decode_frame(data: bytes) -> Frame:
    """Exactly one frame from bytes; trailing bytes are an error."""
    view = memoryview(data)
    offset = 0

    def read(n: int) -> bytes:
        nonlocal offset
        chunk = bytes(view[offset:offset + n])
        offset += len(chunk)
        return chunk

    frame = read_frame(read)
    if frame is None:
        raise FrameError("no frame: empty input")
    if offset != len(data):
        raise FrameError(f"{len(data) - offset} bytes after the frame")
    return frame


def split_payload(frame: Frame, with_event_id: bool = False) -> Tuple[bytes, bytes]:
    """(context, body) of a payload frame, checked as RoadRunner checks a worker's reply.

    `with_event_id`: the frame carries an event id as its second option, so it has two options.
    """
    expected = 2 if with_event_id else 1
    if len(frame.options) != expected:
        what = "2 (body offset, event id)" if with_event_id else "1 (body offset)"
        raise FrameError(f"options length should be equal {what}, got {list(frame.options)}")
    context_length = frame.options[0]
    if context_length > len(frame.payload):
        raise FrameError(f"bad payload: context length {context_length} exceeds payload length {len(frame.payload)}")
    return frame.payload[:context_length], frame.payload[context_length:]


def _read_exactly(read: Callable[[int], bytes], n: int, allow_eof: bool = False) -> Optional[bytes]:
    chunks = []
    got = 0
    while got < n:
        chunk = read(n - got)
        if not chunk:
            if got == 0 and allow_eof:
                return None
            raise FrameError(f"truncated frame: stream ended after {got} of {n} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
