from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
TCP_EVENT_CLOSE: TcpEvent
TCP_EVENT_CONNECTED: TcpEvent
TCP_EVENT_DATA: TcpEvent
TCP_EVENT_UNSPECIFIED: TcpEvent
TCP_RESPONSE_CLOSE: TcpResponse
TCP_RESPONSE_CONTINUE: TcpResponse
TCP_RESPONSE_UNSPECIFIED: TcpResponse
TCP_RESPONSE_WRITE: TcpResponse
TCP_RESPONSE_WRITECLOSE: TcpResponse

class RequestContext(_message.Message):
    __slots__ = ["event", "remote_addr", "server", "uuid"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDR_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    event: TcpEvent
    remote_addr: str
    server: str
    uuid: str
    def __init__(self, remote_addr: _Optional[str] = ..., server: _Optional[str] = ..., uuid: _Optional[str] = ..., event: _Optional[_Union[TcpEvent, str]] = ...) -> None: ...

class WorkerReply(_message.Message):
    __slots__ = ["body", "verb"]
    BODY_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    verb: TcpResponse
    def __init__(self, verb: _Optional[_Union[TcpResponse, str]] = ..., body: _Optional[bytes] = ...) -> None: ...

class TcpEvent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class TcpResponse(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
