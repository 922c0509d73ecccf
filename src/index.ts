/**
 * rr-tcp's public API. The worker SDK has its own entry point, `rr-tcp/worker`.
 */
// The schema's generated types: every other piece builds on them.
export { RequestContext } from "../gen/ts/rr/tcp/v1/tcp.js";
export {
  Config,
  ContextCodec as ContextCodecKind,
  ControlOptions,
  Framing,
  LogsOptions,
  PoolOptions,
  Routing,
  RpcOptions,
  ServerOptions,
  SupervisorOptions,
  TcpOptions,
  TcpServerOptions,
} from "../gen/ts/rr/tcp/v1/options.js";
export {
  CloseConnectionRequest,
  CloseConnectionResponse,
  PoolState,
  WorkerState,
  WorkerStatus,
} from "../gen/ts/rr/tcp/v1/control.js";

// The TCP payload: context codecs, wire names, the schema version.
export * from "./protocol/index.js";

// The one error base.
export { RrTcpError, errorCode, type ErrorFacts } from "./errors.js";

// The goridge codec.
export {
  Byte10,
  FrameError,
  FrameFlag,
  FrameReader,
  RpcFrameError,
  decodeFrame,
  encodeControlFrame,
  encodeErrorFrame,
  encodeFrame,
  encodePayloadFrame,
  splitPayload,
  type Frame,
} from "./goridge/index.js";

// Relays: frames over pipes and sockets, the pid handshake.
export {
  HandshakeError,
  RelayClosedError,
  RelayConnectError,
  SocketRelayListener,
  StreamRelay,
  connectRelay,
  requestPid,
  type Relay,
} from "./relay/index.js";

// Addresses and listening.
export { AddressError, ListenError, parseListenAddress, parseRelayAddress, type RelayAddress } from "./net/index.js";

// Worker processes.
export {
  PoolError,
  RR_VERSION,
  WorkerPool,
  type EventPool,
  type ExecReply,
  type ExecRequest,
  type Clock,
  type PoolErrorCode,
  type Timer,
  type WorkerPoolOptions,
} from "./pool/index.js";

// TCP servers.
export {
  MessageTooLargeError,
  PushError,
  TcpServer,
  createFramer,
  type CloseReason,
  type Framer,
  type PushErrorCode,
  type PushOutcome,
  type TcpServerInit,
} from "./server/index.js";

// The composition root.
export { SERVER_NODE_FLAGS, Service } from "./service/index.js";

// Configuration.
export {
  ConfigError,
  ConfigFileError,
  loadConfigFile,
  loadDefaultConfig,
  parseConfig,
  resolveConfig,
  type LoadedConfig,
} from "./config/index.js";

// The control API, and RoadRunner's RPC (rpc.listen).
export { ControlServer } from "./control/control-server.js";
export { RpcServer } from "./control/rpc-server.js";
export { createRpcMethods, RpcMethodError, type RpcMethod } from "./control/rpc-methods.js";
export type { ControlledPool, ControlledServer } from "./control/control-target.js";
