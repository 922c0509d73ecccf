/**
 * rr-tcp's worker SDK (`rr-tcp/worker`): write a TCP worker in TypeScript that runs under rr-tcp
 * and under RoadRunner itself. The API mirrors spiral/roadrunner-tcp (PHP).
 */
export type { RequestContext } from "../../gen/ts/rr/tcp/v1/tcp.js";
export { TcpEvent, TcpResponse } from "../protocol/index.js";
export { ContextDecodeError } from "../protocol/index.js";
export { WorkerError, type WorkerErrorCode } from "./errors.js";
export type { Payload, PayloadInit } from "./payload.js";
export { Worker, type WorkerOptions, type RelayMode } from "./worker.js";
export { PipeRelay, WouldBlock, type PipeRelayOptions } from "./pipe-relay.js";
export { Request } from "./request.js";
export { replyOf, type Reply, type ReplyBody, type VerbReply } from "./reply.js";
export { TcpWorker, type Handler } from "./tcp-worker.js";
export { serve, describeFatal, MODE_ENV, type ServeOptions } from "./serve.js";
export { guardStdout, type StdoutGuard } from "./stdout-guard.js";
export { RpcClient, RpcCallError } from "./rpc-client.js";
