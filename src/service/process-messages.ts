/**
 * What the primary and its server processes (tcp.processes) say to each other over node:cluster's
 * IPC channel, with the "advanced" serialization (structured clone: Buffers, nested objects). The
 * primary calls, each process answers its own calls in order; errors cross as their name, code
 * and message, and come back as the same kind of error (a PushError stays a PushError, so the
 * RPC and HTTP answers are those of a local refusal). And the primary hands each client
 * connection to a process: the socket goes with the message, as its handle.
 */
import type { ConnectionInfo, PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { Config } from "../../gen/ts/rr/tcp/v1/options.js";
import type { BroadcastOutcome } from "../control/control-target.js";
import { RrTcpError } from "../errors.js";
import { PushError, type PushErrorCode, type PushOutcome, type ServerCounters } from "../server/index.js";

/** What one server process reports of itself: everything the primary answers synchronously from. */
export interface ProcessSnapshot {
  readonly state: PoolState;
  readonly restarts: Partial<Record<string, number>>;
  /** CPU percent of each live worker, by pid. */
  readonly cpu: Record<number, number>;
  readonly counters: Record<string, ServerCounters>;
  readonly buffered: number;
  readonly retained: number;
}

/**
 * Each call the primary makes, with its arguments and its answer. `across` asks the process to
 * answer for the whole cluster (its Redis-backed view), not only its own connections.
 */
export interface ProcessCalls {
  snapshot: { args: []; result: ProcessSnapshot };
  connections: { args: [server: string, across: boolean]; result: ConnectionInfo[] };
  write: { args: [uuid: string, data: Buffer, close: boolean, across: boolean]; result: PushOutcome };
  close: { args: [uuid: string, across: boolean]; result: boolean };
  broadcast: { args: [server: string, data: Buffer, across: boolean]; result: BroadcastOutcome };
  reset: { args: []; result: void };
  addWorker: { args: []; result: void };
  removeWorker: { args: []; result: void };
  killBusyWorkers: { args: [reason: string]; result: number };
  /** The messages of the certificates that could not be reloaded. */
  reloadCertificates: { args: []; result: string[] };
  metrics: { args: []; result: MetricObjectWithValues<MetricValue<string>>[] };
  stop: { args: []; result: void };
}

export type ProcessOp = keyof ProcessCalls;

/** What a process starts with: its place and its own config (config/process-shares.ts). */
export interface StartMessage {
  readonly rr: "start";
  readonly index: number;
  readonly count: number;
  readonly config: Config;
  readonly file: string | undefined;
  readonly baseDir: string;
  /** Make the metrics registry the primary's /metrics aggregates. */
  readonly metrics: boolean;
}

export interface CallMessage<Op extends ProcessOp = ProcessOp> {
  readonly rr: "call";
  readonly id: number;
  readonly op: Op;
  readonly args: ProcessCalls[Op]["args"];
}

/** An error as it crosses the channel. */
export interface CrossedError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly uuid?: string;
  readonly key?: string;
  readonly address?: string;
  readonly server?: string;
}

export type AnswerMessage =
  | { readonly rr: "answer"; readonly id: number; readonly value: unknown }
  | { readonly rr: "answer"; readonly id: number; readonly error: CrossedError };

/** The process is loaded and waits for its start message (one sent before it listens would be lost). */
export interface HelloMessage {
  readonly rr: "hello";
}

/** The process's workers are up: it takes connections. */
export interface ReadyMessage {
  readonly rr: "ready";
}

/** The process has the connection of that hand-off: the primary closes its copy. */
export interface AdoptedMessage {
  readonly rr: "adopted";
  readonly id: number;
}

/** The process could not start. */
export interface FailedMessage {
  readonly rr: "failed";
  readonly error: CrossedError;
}

/** A client connection of `server`, accepted by the primary: the socket is the message's handle. */
export interface ConnectionMessage {
  readonly rr: "connection";
  readonly server: string;
  /** Said back in the AdoptedMessage. */
  readonly id: number;
}

export type ToProcess = StartMessage | CallMessage | ConnectionMessage;
export type FromProcess = HelloMessage | AnswerMessage | ReadyMessage | FailedMessage | AdoptedMessage;

/** `err` in the form that crosses the channel. */
export function crossError(err: unknown): CrossedError {
  const error = RrTcpError.from(err);
  return {
    name: err instanceof Error ? err.name : "Error",
    code: error.code,
    message: error.message,
    ...(error.uuid !== undefined && { uuid: error.uuid }),
    ...(error.key !== undefined && { key: error.key }),
    ...(error.address !== undefined && { address: error.address }),
    ...(err instanceof PushError && err.server !== undefined && { server: err.server }),
  };
}

/** The error again, on this side: a PushError as one, anything else as an RrTcpError with its code. */
export function uncrossError(crossed: CrossedError): RrTcpError {
  if (crossed.name === "PushError") {
    return new PushError(crossed.code as PushErrorCode, crossed.message, {
      uuid: crossed.uuid,
      server: crossed.server,
    });
  }
  const error = new RrTcpError(crossed.code, crossed.message, {
    uuid: crossed.uuid,
    key: crossed.key,
    address: crossed.address,
  });
  error.name = crossed.name;
  return error;
}

/** Is `message` one of ours (node:cluster's own messages share the channel). */
export function isProcessMessage(message: unknown): message is { rr: string } {
  return typeof message === "object" && message !== null && typeof (message as { rr?: unknown }).rr === "string";
}
