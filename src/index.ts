/**
 * rr-tcp's public API. The schema's generated types come first: every other piece builds on them.
 */
export { RequestContext, WorkerReply } from "../gen/ts/rr/tcp/v1/tcp.js";
export {
  Config,
  ContextCodec as ContextCodecKind,
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
export { PoolState, WorkerState, WorkerStatus } from "../gen/ts/rr/tcp/v1/control.js";
export * from "./protocol/index.js";
