/**
 * `rr-tcp/schema`: the generated TypeScript of the schema package rr.tcp.v1 (proto/rr/tcp/v1).
 * Each message is a type and, under the same name, its codec (`encode`, `decode`, `fromJSON`,
 * `toJSON`, `create`, `fromPartial`); each enum comes with its `…FromJSON` and `…ToJSON`. The
 * goridge frame schema, rr.goridge.v1, is `rr-tcp/schema/goridge`.
 *
 * Nothing here is hand-written but the re-exports: the generated files are the schema's one
 * TypeScript form (docs/architecture.md#dependency-rules). The names are listed rather than
 * star-exported because every generated file declares `protobufFileName`, which would make the
 * star exports ambiguous; test/schema/exports.test.ts fails when a generated name is missing here.
 */

// Events, verbs and the request context (tcp.proto).
export {
  RequestContext,
  TcpEvent,
  TcpResponse,
  WorkerReply,
  tcpEventFromJSON,
  tcpEventToJSON,
  tcpResponseFromJSON,
  tcpResponseToJSON,
} from "../../gen/ts/rr/tcp/v1/tcp.js";

// Every `.rr.yaml` section (options.proto).
export {
  ClientAuth,
  ClusterOptions,
  Config,
  ContextCodec,
  ControlOptions,
  DynamicAllocatorOptions,
  FileLoggerOptions,
  Framing,
  LogChannelOptions,
  LogsOptions,
  LogsOptions_ChannelsEntry,
  MetricsCollectorOptions,
  MetricsCollectorOptions_ObjectivesEntry,
  MetricsOptions,
  MetricsOptions_CollectEntry,
  OnInitOptions,
  OnInitOptions_EnvEntry,
  PoolOptions,
  Routing,
  RpcOptions,
  ServerOptions,
  ServerOptions_EnvEntry,
  StatusOptions,
  SupervisorOptions,
  TcpOptions,
  TcpOptions_ServersEntry,
  TcpServerOptions,
  TlsOptions,
  clientAuthFromJSON,
  clientAuthToJSON,
  contextCodecFromJSON,
  contextCodecToJSON,
  framingFromJSON,
  framingToJSON,
  routingFromJSON,
  routingToJSON,
} from "../../gen/ts/rr/tcp/v1/options.js";

// The control API's and RPC's messages (control.proto).
export {
  BroadcastRequest,
  BroadcastResponse,
  CloseConnectionRequest,
  CloseConnectionResponse,
  ConnectionInfo,
  ConnectionList,
  ListConnectionsRequest,
  PoolState,
  WorkerState,
  WorkerStatus,
  WriteConnectionRequest,
  WriteConnectionResponse,
  workerStatusFromJSON,
  workerStatusToJSON,
} from "../../gen/ts/rr/tcp/v1/control.js";

// The (spec) option on each config key (option_spec.proto), and every key's facts read from it.
export {
  KeyOrigin,
  OptionSpec,
  ValueUnit,
  keyOriginFromJSON,
  keyOriginToJSON,
  valueUnitFromJSON,
  valueUnitToJSON,
} from "../../gen/ts/rr/tcp/v1/option_spec.js";
export { OPTION_SPECS, type KeyFacts } from "../../gen/ts/rr/tcp/v1/option_specs.js";

// Declared alike by every file of the package ("rr.tcp.v1", and ts-proto's two helper types), so
// tcp.ts's stand for all.
export { protobufPackage, type DeepPartial, type MessageFns } from "../../gen/ts/rr/tcp/v1/tcp.js";
// Each file's own name, which the generated files all call `protobufFileName`.
export { protobufFileName as tcpProtoFileName } from "../../gen/ts/rr/tcp/v1/tcp.js";
export { protobufFileName as optionsProtoFileName } from "../../gen/ts/rr/tcp/v1/options.js";
export { protobufFileName as controlProtoFileName } from "../../gen/ts/rr/tcp/v1/control.js";
export { protobufFileName as optionSpecProtoFileName } from "../../gen/ts/rr/tcp/v1/option_spec.js";

// The options' durations (allocate_timeout, ttl, …) are google.protobuf.Duration messages.
export { Duration } from "../../gen/ts/google/protobuf/duration.js";
