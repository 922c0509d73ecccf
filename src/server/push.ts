/**
 * Bytes written to a connection from outside its own events (tcp.Write, tcp.WriteClose,
 * tcp.Broadcast): why one can be refused. A push never waits: a worker may push to the very
 * connection whose event it holds, so waiting for that event's reply would wait for itself.
 */
import { RrTcpError } from "../errors.js";

export type PushErrorCode =
  /** No open connection has the uuid. */
  | "UNKNOWN_CONNECTION"
  /** No server of tcp.servers has the name. */
  | "UNKNOWN_SERVER"
  /** The connection is closing (tcp.Close, WRITECLOSE, shutdown...): nothing more reaches its client. */
  | "CONNECTION_CLOSING"
  /** The client does not read: its unsent bytes are at the socket's high-water mark. */
  | "CLIENT_NOT_READING";

/** A push that was not taken; nothing of it was written. */
export class PushError extends RrTcpError<PushErrorCode> {
  /** The server named (UNKNOWN_SERVER), or the connection's server. */
  readonly server: string | undefined;

  constructor(code: PushErrorCode, message: string, facts: { uuid?: string; server?: string } = {}) {
    super(code, message, { uuid: facts.uuid });
    this.server = facts.server;
  }
}

/** One push waiting behind the reply of the event that is with a worker. */
export interface QueuedPush {
  readonly data: Buffer;
  /** tcp.WriteClose: the connection closes once it is written. */
  readonly close: boolean;
}

/** What became of a push that was taken. */
export interface PushOutcome {
  /** Written to the socket now; false when it waits behind the reply of the event with a worker. */
  readonly written: boolean;
  /** The connection closes after it (tcp.WriteClose). */
  readonly closing: boolean;
}
