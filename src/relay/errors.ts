/**
 * Errors of the relays that carry goridge frames between the server and a worker: closed, not
 * reachable, or a failed pid handshake. Each names the relay or address and, when known, the pid.
 */
import { RrTcpError } from "../errors.js";

/**
 * The relay can no longer carry frames: the peer closed it (EOF), a write failed (EPIPE,
 * ECONNRESET), or it was closed locally. `cause` holds the underlying error, if any.
 */
export class RelayClosedError extends RrTcpError<"RELAY_CLOSED"> {
  /** Name of the relay (for example `pipes` or `tcp://127.0.0.1:6001 pid 1234`). */
  readonly relay: string;

  constructor(relay: string, reason: string, options?: { cause?: unknown }) {
    super("RELAY_CLOSED", `relay ${relay} is closed: ${reason}`, options);
    this.relay = relay;
  }
}

/** A worker could not be connected to: the address refused or does not exist. */
export class RelayConnectError extends RrTcpError<"RELAY_CONNECT"> {
  declare readonly address: string;

  constructor(address: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super("RELAY_CONNECT", `cannot connect to relay ${address}${detail}`, { ...options, address });
  }
}

/** The pid handshake (docs/wire.md) failed or timed out. */
export class HandshakeError extends RrTcpError<"HANDSHAKE"> {
  /** The timeout that expired, when the failure is a timeout. */
  readonly timeoutMs: number | undefined;

  constructor(message: string, facts: { pid?: number; timeoutMs?: number } = {}, options?: { cause?: unknown }) {
    super("HANDSHAKE", message, { ...options, pid: facts.pid });
    this.timeoutMs = facts.timeoutMs;
  }
}
