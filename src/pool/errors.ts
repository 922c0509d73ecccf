/**
 * Errors of the worker pool. Each has a stable `code` to branch on and carries the facts a reader
 * of one log line needs: the worker's pid, the command, the timeout that expired.
 */
import { RrTcpError } from "../errors.js";

/** Why an event or a pool operation failed. */
export type PoolErrorCode =
  /** No worker became idle within allocate_timeout. */
  | "NO_FREE_WORKERS"
  /** max_queue_size events were already in the pool (waiting or running). */
  | "QUEUE_FULL"
  /** The worker's process exited or its relay closed during the event. The worker is replaced. */
  | "WORKER_DIED"
  /** The worker answered with an ERROR frame (0x40); `workerMessage` holds its text. The worker stays. */
  | "WORKER_ERROR"
  /** The worker sent a frame that is not a valid reply (CRC, option count, stream bit). It is replaced. */
  | "BAD_FRAME"
  /** The worker did not answer within supervisor.exec_ttl; it was killed and is replaced. */
  | "EXEC_TTL"
  /** A worker could not be started or failed the pid handshake. */
  | "SPAWN_FAILED"
  /** The pool is being destroyed, or was. */
  | "POOL_CLOSED"
  /** Every worker the event was given to asked to stop instead of answering, too many times. */
  | "RERUN_LIMIT"
  /** The pool options cannot be used (for example more than 500 workers, an empty command). */
  | "BAD_OPTIONS";

/** Facts an error may carry. */
export interface PoolErrorFacts {
  /** OS pid of the worker involved. */
  pid?: number;
  /** The worker command, as one string. */
  command?: string;
  /** The timeout that expired, in milliseconds. */
  timeoutMs?: number;
  /** Exit code of the worker process, when it exited. */
  exitCode?: number | null;
  /** Signal that ended the worker process, when one did. */
  signal?: string | null;
  /** The text of the worker's ERROR frame. */
  workerMessage?: string;
}

/** An event or a pool operation failed; see {@link PoolErrorCode}. */
export class PoolError extends RrTcpError<PoolErrorCode> {
  readonly command: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly workerMessage: string | undefined;

  constructor(code: PoolErrorCode, message: string, facts: PoolErrorFacts = {}, options?: { cause?: unknown }) {
    super(code, message, { ...options, pid: facts.pid });
    this.command = facts.command;
    this.timeoutMs = facts.timeoutMs;
    this.exitCode = facts.exitCode;
    this.signal = facts.signal;
    this.workerMessage = facts.workerMessage;
  }
}

/** `code 3` or `signal SIGKILL`, for messages about a process that ended. */
export function describeExit(exitCode: number | null | undefined, signal: string | null | undefined): string {
  if (signal) return `was killed by ${signal}`;
  if (exitCode !== null && exitCode !== undefined) return `exited with code ${exitCode}`;
  return "exited";
}
