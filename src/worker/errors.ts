/**
 * Errors of the worker SDK. Each has a stable `code` to branch on; the message carries what a
 * reader of the worker's stderr (RoadRunner logs it) needs to find the cause.
 */
import { RrTcpError } from "../errors.js";

/** Why the worker SDK refused something. */
export type WorkerErrorCode =
  /** The server sent a control frame that is neither a pid request nor a stop command. */
  | "UNKNOWN_CONTROL"
  /** The server sent an ERROR frame, which only workers may send. */
  | "UNEXPECTED_ERROR_FRAME"
  /** A reply was sent with no request waiting for one: it would be read as the reply to the next event. */
  | "REPLY_WITHOUT_REQUEST"
  /** A handler returned something that is not a reply (see `Reply`). */
  | "BAD_REPLY"
  /** `RR_TCP_WORKER_MODE` (or `serve()`'s `mode`) is neither `blocking` nor `event-loop`. */
  | "BAD_MODE";

/** A protocol or usage error raised by the worker SDK itself. */
export class WorkerError extends RrTcpError<WorkerErrorCode> {}
