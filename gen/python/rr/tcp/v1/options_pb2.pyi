from google.protobuf import duration_pb2 as _duration_pb2
from rr.tcp.v1 import option_spec_pb2 as _option_spec_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

CLIENT_AUTH_NONE: ClientAuth
CLIENT_AUTH_REQUEST: ClientAuth
CLIENT_AUTH_REQUIRE: ClientAuth
CLIENT_AUTH_UNSPECIFIED: ClientAuth
CONTEXT_CODEC_JSON: ContextCodec
CONTEXT_CODEC_PROTO: ContextCodec
CONTEXT_CODEC_UNSPECIFIED: ContextCodec
DESCRIPTOR: _descriptor.FileDescriptor
FRAMING_DELIMITER: Framing
FRAMING_LENGTH: Framing
FRAMING_RAW: Framing
FRAMING_UNSPECIFIED: Framing
ROUTING_ANY: Routing
ROUTING_STICKY: Routing
ROUTING_UNSPECIFIED: Routing

class ClusterOptions(_message.Message):
    __slots__ = ["forward_timeout", "instance_id", "key_prefix", "redis", "registry_ttl"]
    FORWARD_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    REDIS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_TTL_FIELD_NUMBER: _ClassVar[int]
    forward_timeout: _duration_pb2.Duration
    instance_id: str
    key_prefix: str
    redis: str
    registry_ttl: _duration_pb2.Duration
    def __init__(self, redis: _Optional[str] = ..., instance_id: _Optional[str] = ..., registry_ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., forward_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., key_prefix: _Optional[str] = ...) -> None: ...

class Config(_message.Message):
    __slots__ = ["cluster", "control", "logs", "metrics", "rpc", "server", "status", "tcp", "version"]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TCP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    cluster: ClusterOptions
    control: ControlOptions
    logs: LogsOptions
    metrics: MetricsOptions
    rpc: RpcOptions
    server: ServerOptions
    status: StatusOptions
    tcp: TcpOptions
    version: str
    def __init__(self, version: _Optional[str] = ..., server: _Optional[_Union[ServerOptions, _Mapping]] = ..., tcp: _Optional[_Union[TcpOptions, _Mapping]] = ..., rpc: _Optional[_Union[RpcOptions, _Mapping]] = ..., logs: _Optional[_Union[LogsOptions, _Mapping]] = ..., control: _Optional[_Union[ControlOptions, _Mapping]] = ..., status: _Optional[_Union[StatusOptions, _Mapping]] = ..., metrics: _Optional[_Union[MetricsOptions, _Mapping]] = ..., cluster: _Optional[_Union[ClusterOptions, _Mapping]] = ...) -> None: ...

class ControlOptions(_message.Message):
    __slots__ = ["addr"]
    ADDR_FIELD_NUMBER: _ClassVar[int]
    addr: str
    def __init__(self, addr: _Optional[str] = ...) -> None: ...

class DynamicAllocatorOptions(_message.Message):
    __slots__ = ["idle_timeout", "max_workers", "spawn_rate"]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    MAX_WORKERS_FIELD_NUMBER: _ClassVar[int]
    SPAWN_RATE_FIELD_NUMBER: _ClassVar[int]
    idle_timeout: _duration_pb2.Duration
    max_workers: int
    spawn_rate: int
    def __init__(self, max_workers: _Optional[int] = ..., spawn_rate: _Optional[int] = ..., idle_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class FileLoggerOptions(_message.Message):
    __slots__ = ["compress", "log_output", "max_age", "max_backups", "max_size"]
    COMPRESS_FIELD_NUMBER: _ClassVar[int]
    LOG_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    MAX_BACKUPS_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    compress: bool
    log_output: str
    max_age: int
    max_backups: int
    max_size: int
    def __init__(self, log_output: _Optional[str] = ..., max_size: _Optional[int] = ..., max_age: _Optional[int] = ..., max_backups: _Optional[int] = ..., compress: bool = ...) -> None: ...

class LogChannelOptions(_message.Message):
    __slots__ = ["encoding", "err_output", "file_logger_options", "format", "level", "line_ending", "mode", "output", "skip_line_ending", "time_format"]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    ERR_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    FILE_LOGGER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LINE_ENDING_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    SKIP_LINE_ENDING_FIELD_NUMBER: _ClassVar[int]
    TIME_FORMAT_FIELD_NUMBER: _ClassVar[int]
    encoding: str
    err_output: str
    file_logger_options: FileLoggerOptions
    format: str
    level: str
    line_ending: str
    mode: str
    output: str
    skip_line_ending: bool
    time_format: str
    def __init__(self, level: _Optional[str] = ..., mode: _Optional[str] = ..., encoding: _Optional[str] = ..., output: _Optional[str] = ..., err_output: _Optional[str] = ..., line_ending: _Optional[str] = ..., format: _Optional[str] = ..., time_format: _Optional[str] = ..., skip_line_ending: bool = ..., file_logger_options: _Optional[_Union[FileLoggerOptions, _Mapping]] = ...) -> None: ...

class LogsOptions(_message.Message):
    __slots__ = ["channels", "encoding", "err_output", "file_logger_options", "format", "level", "line_ending", "mode", "output", "skip_line_ending", "time_format"]
    class ChannelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: LogChannelOptions
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[LogChannelOptions, _Mapping]] = ...) -> None: ...
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    ERR_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    FILE_LOGGER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LINE_ENDING_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    SKIP_LINE_ENDING_FIELD_NUMBER: _ClassVar[int]
    TIME_FORMAT_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.MessageMap[str, LogChannelOptions]
    encoding: str
    err_output: str
    file_logger_options: FileLoggerOptions
    format: str
    level: str
    line_ending: str
    mode: str
    output: str
    skip_line_ending: bool
    time_format: str
    def __init__(self, level: _Optional[str] = ..., mode: _Optional[str] = ..., encoding: _Optional[str] = ..., output: _Optional[str] = ..., err_output: _Optional[str] = ..., line_ending: _Optional[str] = ..., channels: _Optional[_Mapping[str, LogChannelOptions]] = ..., file_logger_options: _Optional[_Union[FileLoggerOptions, _Mapping]] = ..., format: _Optional[str] = ..., time_format: _Optional[str] = ..., skip_line_ending: bool = ...) -> None: ...

class MetricsCollectorOptions(_message.Message):
    __slots__ = ["buckets", "help", "labels", "namespace", "objectives", "subsystem", "type"]
    class ObjectivesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    HELP_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    SUBSYSTEM_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedScalarFieldContainer[str]
    help: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    namespace: str
    objectives: _containers.ScalarMap[str, str]
    subsystem: str
    type: str
    def __init__(self, type: _Optional[str] = ..., help: _Optional[str] = ..., namespace: _Optional[str] = ..., subsystem: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., buckets: _Optional[_Iterable[str]] = ..., objectives: _Optional[_Mapping[str, str]] = ...) -> None: ...

class MetricsOptions(_message.Message):
    __slots__ = ["address", "collect"]
    class CollectEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MetricsCollectorOptions
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MetricsCollectorOptions, _Mapping]] = ...) -> None: ...
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    COLLECT_FIELD_NUMBER: _ClassVar[int]
    address: str
    collect: _containers.MessageMap[str, MetricsCollectorOptions]
    def __init__(self, address: _Optional[str] = ..., collect: _Optional[_Mapping[str, MetricsCollectorOptions]] = ...) -> None: ...

class OnInitOptions(_message.Message):
    __slots__ = ["command", "env", "exec_timeout", "exit_on_error", "user"]
    class EnvEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    EXEC_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    EXIT_ON_ERROR_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.ScalarMap[str, str]
    exec_timeout: _duration_pb2.Duration
    exit_on_error: bool
    user: str
    def __init__(self, command: _Optional[_Iterable[str]] = ..., exec_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., env: _Optional[_Mapping[str, str]] = ..., user: _Optional[str] = ..., exit_on_error: bool = ...) -> None: ...

class PoolOptions(_message.Message):
    __slots__ = ["allocate_timeout", "command", "debug", "destroy_timeout", "dynamic_allocator", "max_frame_size", "max_jobs", "max_queue_size", "num_workers", "reset_timeout", "stream_timeout", "supervisor", "trust_replies"]
    ALLOCATE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    DEBUG_FIELD_NUMBER: _ClassVar[int]
    DESTROY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_ALLOCATOR_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAME_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_JOBS_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_SIZE_FIELD_NUMBER: _ClassVar[int]
    NUM_WORKERS_FIELD_NUMBER: _ClassVar[int]
    RESET_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    STREAM_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    SUPERVISOR_FIELD_NUMBER: _ClassVar[int]
    TRUST_REPLIES_FIELD_NUMBER: _ClassVar[int]
    allocate_timeout: _duration_pb2.Duration
    command: _containers.RepeatedScalarFieldContainer[str]
    debug: bool
    destroy_timeout: _duration_pb2.Duration
    dynamic_allocator: DynamicAllocatorOptions
    max_frame_size: int
    max_jobs: int
    max_queue_size: int
    num_workers: int
    reset_timeout: _duration_pb2.Duration
    stream_timeout: _duration_pb2.Duration
    supervisor: SupervisorOptions
    trust_replies: bool
    def __init__(self, command: _Optional[_Iterable[str]] = ..., num_workers: _Optional[int] = ..., max_jobs: _Optional[int] = ..., max_queue_size: _Optional[int] = ..., allocate_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., destroy_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., reset_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., debug: bool = ..., supervisor: _Optional[_Union[SupervisorOptions, _Mapping]] = ..., stream_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., max_frame_size: _Optional[int] = ..., dynamic_allocator: _Optional[_Union[DynamicAllocatorOptions, _Mapping]] = ..., trust_replies: bool = ...) -> None: ...

class RpcOptions(_message.Message):
    __slots__ = ["listen"]
    LISTEN_FIELD_NUMBER: _ClassVar[int]
    listen: str
    def __init__(self, listen: _Optional[str] = ...) -> None: ...

class ServerOptions(_message.Message):
    __slots__ = ["command", "env", "group", "on_init", "relay", "relay_timeout", "user"]
    class EnvEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    ON_INIT_FIELD_NUMBER: _ClassVar[int]
    RELAY_FIELD_NUMBER: _ClassVar[int]
    RELAY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.ScalarMap[str, str]
    group: str
    on_init: OnInitOptions
    relay: str
    relay_timeout: _duration_pb2.Duration
    user: str
    def __init__(self, command: _Optional[_Iterable[str]] = ..., relay: _Optional[str] = ..., env: _Optional[_Mapping[str, str]] = ..., user: _Optional[str] = ..., group: _Optional[str] = ..., relay_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., on_init: _Optional[_Union[OnInitOptions, _Mapping]] = ...) -> None: ...

class StatusOptions(_message.Message):
    __slots__ = ["address", "check_timeout", "unavailable_status_code"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    address: str
    check_timeout: int
    unavailable_status_code: int
    def __init__(self, address: _Optional[str] = ..., unavailable_status_code: _Optional[int] = ..., check_timeout: _Optional[int] = ...) -> None: ...

class SupervisorOptions(_message.Message):
    __slots__ = ["exec_ttl", "idle_ttl", "max_worker_memory", "ttl", "watch_tick"]
    EXEC_TTL_FIELD_NUMBER: _ClassVar[int]
    IDLE_TTL_FIELD_NUMBER: _ClassVar[int]
    MAX_WORKER_MEMORY_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    WATCH_TICK_FIELD_NUMBER: _ClassVar[int]
    exec_ttl: _duration_pb2.Duration
    idle_ttl: _duration_pb2.Duration
    max_worker_memory: int
    ttl: _duration_pb2.Duration
    watch_tick: _duration_pb2.Duration
    def __init__(self, watch_tick: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., idle_ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., max_worker_memory: _Optional[int] = ..., exec_ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TcpOptions(_message.Message):
    __slots__ = ["context_codec", "max_buffered_bytes", "pool", "processes", "read_buf_size", "servers"]
    class ServersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: TcpServerOptions
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[TcpServerOptions, _Mapping]] = ...) -> None: ...
    CONTEXT_CODEC_FIELD_NUMBER: _ClassVar[int]
    MAX_BUFFERED_BYTES_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    READ_BUF_SIZE_FIELD_NUMBER: _ClassVar[int]
    SERVERS_FIELD_NUMBER: _ClassVar[int]
    context_codec: ContextCodec
    max_buffered_bytes: int
    pool: PoolOptions
    processes: int
    read_buf_size: int
    servers: _containers.MessageMap[str, TcpServerOptions]
    def __init__(self, servers: _Optional[_Mapping[str, TcpServerOptions]] = ..., read_buf_size: _Optional[int] = ..., pool: _Optional[_Union[PoolOptions, _Mapping]] = ..., context_codec: _Optional[_Union[ContextCodec, str]] = ..., max_buffered_bytes: _Optional[int] = ..., processes: _Optional[int] = ...) -> None: ...

class TcpServerOptions(_message.Message):
    __slots__ = ["addr", "delimiter", "framing", "idle_timeout", "length_bytes", "max_connections", "max_message_size", "proxy_header_timeout", "proxy_protocol", "proxy_trusted", "read_buf_size", "routing", "tls"]
    ADDR_FIELD_NUMBER: _ClassVar[int]
    DELIMITER_FIELD_NUMBER: _ClassVar[int]
    FRAMING_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    LENGTH_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PROXY_HEADER_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    PROXY_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PROXY_TRUSTED_FIELD_NUMBER: _ClassVar[int]
    READ_BUF_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    addr: str
    delimiter: str
    framing: Framing
    idle_timeout: _duration_pb2.Duration
    length_bytes: int
    max_connections: int
    max_message_size: int
    proxy_header_timeout: _duration_pb2.Duration
    proxy_protocol: bool
    proxy_trusted: _containers.RepeatedScalarFieldContainer[str]
    read_buf_size: int
    routing: Routing
    tls: TlsOptions
    def __init__(self, addr: _Optional[str] = ..., delimiter: _Optional[str] = ..., framing: _Optional[_Union[Framing, str]] = ..., length_bytes: _Optional[int] = ..., routing: _Optional[_Union[Routing, str]] = ..., max_message_size: _Optional[int] = ..., max_connections: _Optional[int] = ..., idle_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., read_buf_size: _Optional[int] = ..., proxy_protocol: bool = ..., proxy_trusted: _Optional[_Iterable[str]] = ..., proxy_header_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., tls: _Optional[_Union[TlsOptions, _Mapping]] = ...) -> None: ...

class TlsOptions(_message.Message):
    __slots__ = ["ca", "cert", "client_auth", "handshake_timeout", "key"]
    CA_FIELD_NUMBER: _ClassVar[int]
    CERT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_AUTH_FIELD_NUMBER: _ClassVar[int]
    HANDSHAKE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ca: str
    cert: str
    client_auth: ClientAuth
    handshake_timeout: _duration_pb2.Duration
    key: str
    def __init__(self, cert: _Optional[str] = ..., key: _Optional[str] = ..., ca: _Optional[str] = ..., client_auth: _Optional[_Union[ClientAuth, str]] = ..., handshake_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Framing(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ClientAuth(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Routing(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ContextCodec(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
