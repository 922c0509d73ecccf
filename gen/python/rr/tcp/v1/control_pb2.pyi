from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
WORKER_STATUS_READY: WorkerStatus
WORKER_STATUS_STARTING: WorkerStatus
WORKER_STATUS_STOPPED: WorkerStatus
WORKER_STATUS_STOPPING: WorkerStatus
WORKER_STATUS_UNSPECIFIED: WorkerStatus
WORKER_STATUS_WORKING: WorkerStatus

class BroadcastRequest(_message.Message):
    __slots__ = ["data", "server"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    server: str
    def __init__(self, server: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class BroadcastResponse(_message.Message):
    __slots__ = ["reached", "refused"]
    REACHED_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    reached: int
    refused: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reached: _Optional[int] = ..., refused: _Optional[_Iterable[str]] = ...) -> None: ...

class CloseConnectionRequest(_message.Message):
    __slots__ = ["uuid"]
    UUID_FIELD_NUMBER: _ClassVar[int]
    uuid: str
    def __init__(self, uuid: _Optional[str] = ...) -> None: ...

class CloseConnectionResponse(_message.Message):
    __slots__ = ["closed"]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    closed: bool
    def __init__(self, closed: bool = ...) -> None: ...

class ConnectionInfo(_message.Message):
    __slots__ = ["age", "bytes_received", "bytes_sent", "instance", "remote_addr", "server", "uuid"]
    AGE_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDR_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    age: _duration_pb2.Duration
    bytes_received: int
    bytes_sent: int
    instance: str
    remote_addr: str
    server: str
    uuid: str
    def __init__(self, uuid: _Optional[str] = ..., server: _Optional[str] = ..., remote_addr: _Optional[str] = ..., age: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., bytes_received: _Optional[int] = ..., bytes_sent: _Optional[int] = ..., instance: _Optional[str] = ...) -> None: ...

class ConnectionList(_message.Message):
    __slots__ = ["connections"]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[ConnectionInfo]
    def __init__(self, connections: _Optional[_Iterable[_Union[ConnectionInfo, _Mapping]]] = ...) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ["server"]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    server: str
    def __init__(self, server: _Optional[str] = ...) -> None: ...

class PoolState(_message.Message):
    __slots__ = ["queued", "workers"]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    queued: int
    workers: _containers.RepeatedCompositeFieldContainer[WorkerState]
    def __init__(self, workers: _Optional[_Iterable[_Union[WorkerState, _Mapping]]] = ..., queued: _Optional[int] = ...) -> None: ...

class WorkerState(_message.Message):
    __slots__ = ["age", "num_execs", "pid", "rss_bytes", "status"]
    AGE_FIELD_NUMBER: _ClassVar[int]
    NUM_EXECS_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    age: _duration_pb2.Duration
    num_execs: int
    pid: int
    rss_bytes: int
    status: WorkerStatus
    def __init__(self, pid: _Optional[int] = ..., status: _Optional[_Union[WorkerStatus, str]] = ..., num_execs: _Optional[int] = ..., rss_bytes: _Optional[int] = ..., age: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WriteConnectionRequest(_message.Message):
    __slots__ = ["data", "uuid"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    uuid: str
    def __init__(self, uuid: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class WriteConnectionResponse(_message.Message):
    __slots__ = ["closing", "written"]
    CLOSING_FIELD_NUMBER: _ClassVar[int]
    WRITTEN_FIELD_NUMBER: _ClassVar[int]
    closing: bool
    written: bool
    def __init__(self, written: bool = ..., closing: bool = ...) -> None: ...

class WorkerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
