from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
FRAME_FLAG_CODEC_GOB: FrameFlag
FRAME_FLAG_CODEC_JSON: FrameFlag
FRAME_FLAG_CODEC_MSGPACK: FrameFlag
FRAME_FLAG_CODEC_PROTO: FrameFlag
FRAME_FLAG_CODEC_RAW: FrameFlag
FRAME_FLAG_CONTROL: FrameFlag
FRAME_FLAG_ERROR: FrameFlag
FRAME_FLAG_UNSPECIFIED: FrameFlag
HEADER_CONSTANT_BASE_WORDS: HeaderConstant
HEADER_CONSTANT_MAX_OPTIONS: HeaderConstant
HEADER_CONSTANT_UNSPECIFIED: HeaderConstant
HEADER_CONSTANT_VERSION: HeaderConstant
HEADER_CONSTANT_WORD_SIZE: HeaderConstant
HEADER_OFFSET_CRC: HeaderOffset
HEADER_OFFSET_FLAGS: HeaderOffset
HEADER_OFFSET_OPTIONS: HeaderOffset
HEADER_OFFSET_PAYLOAD_LENGTH: HeaderOffset
HEADER_OFFSET_RESERVED: HeaderOffset
HEADER_OFFSET_STREAM_BITS: HeaderOffset
HEADER_OFFSET_UNSPECIFIED: HeaderOffset
PAYLOAD_OPTION_EVENT_ID: PayloadOption
PAYLOAD_OPTION_UNSPECIFIED: PayloadOption
STREAM_BIT_PING: StreamBit
STREAM_BIT_PONG: StreamBit
STREAM_BIT_STOP: StreamBit
STREAM_BIT_STREAM: StreamBit
STREAM_BIT_UNSPECIFIED: StreamBit

class ControlMessage(_message.Message):
    __slots__ = ["context_codecs", "echo_event_id", "pid", "stop"]
    CONTEXT_CODECS_FIELD_NUMBER: _ClassVar[int]
    ECHO_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    context_codecs: _containers.RepeatedScalarFieldContainer[str]
    echo_event_id: bool
    pid: int
    stop: bool
    def __init__(self, pid: _Optional[int] = ..., stop: bool = ..., context_codecs: _Optional[_Iterable[str]] = ..., echo_event_id: bool = ...) -> None: ...

class RpcFrameOptions(_message.Message):
    __slots__ = ["method_length", "seq"]
    METHOD_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    method_length: int
    seq: int
    def __init__(self, seq: _Optional[int] = ..., method_length: _Optional[int] = ...) -> None: ...

class FrameFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class StreamBit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class HeaderOffset(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class HeaderConstant(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PayloadOption(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
