/**
 * Errors of the goridge transport. Every error has a stable `code` so callers can branch on it
 * without parsing messages, and a message that carries the facts needed to diagnose the problem
 * from a log line alone.
 */

/** Base class of every error thrown by `src/goridge`. */
export class GoridgeError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Reasons a frame is rejected by the codec or the reader. */
export type FrameErrorCode =
  /** Header CRC32 (bytes 6..9) disagrees with the CRC of bytes 0..5. */
  | "CRC_MISMATCH"
  /** Header length nibble below 3 or above 13 words. */
  | "BAD_HEADER_LENGTH"
  /** The input ended in the middle of a frame. */
  | "TRUNCATED"
  /** The announced payload is larger than the configured limit. */
  | "PAYLOAD_TOO_LARGE"
  /** A payload frame does not carry exactly one option (the context length). */
  | "BAD_OPTIONS"
  /** The payload does not match what its header or options announce. */
  | "BAD_PAYLOAD"
  /** The bytes are text printed by the worker, not a frame. */
  | "NOT_A_FRAME"
  /** `decodeFrame` was given more bytes than one frame. */
  | "TRAILING_BYTES"
  /** An encoder was asked for more than 10 options. */
  | "TOO_MANY_OPTIONS"
  /** A flags byte, byte 10, option or length does not fit its field. */
  | "BAD_FIELD"
  /** A control frame whose payload is not the JSON object expected. */
  | "BAD_CONTROL";

/** A frame that cannot be encoded or decoded. */
export class FrameError extends GoridgeError {
  declare readonly code: FrameErrorCode;

  constructor(code: FrameErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The relay can no longer carry frames: the peer closed it (EOF), a write failed (EPIPE,
 * ECONNRESET), or it was closed locally. `cause` holds the underlying error, if any.
 */
export class RelayClosedError extends GoridgeError {
  declare readonly code: "RELAY_CLOSED";
  /** Name of the relay (for example `pipes` or `tcp://127.0.0.1:6001 pid 1234`). */
  readonly relay: string;

  constructor(relay: string, reason: string, options?: { cause?: unknown }) {
    super("RELAY_CLOSED", `relay ${relay} is closed: ${reason}`, options);
    this.relay = relay;
  }
}

/** A worker could not be connected to: the address refused or does not exist. */
export class RelayConnectError extends GoridgeError {
  declare readonly code: "RELAY_CONNECT";
  /** The address, in RoadRunner syntax. */
  readonly address: string;

  constructor(address: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super("RELAY_CONNECT", `cannot connect to relay ${address}${detail}`, options);
    this.address = address;
  }
}

/** The pid handshake (spec §2.2) failed or timed out. */
export class HandshakeError extends GoridgeError {
  declare readonly code: "HANDSHAKE";
  /** The pid involved, when known (expected pid on the listener side). */
  readonly pid: number | undefined;
  /** The timeout that expired, when the failure is a timeout. */
  readonly timeoutMs: number | undefined;

  constructor(message: string, facts: { pid?: number; timeoutMs?: number } = {}, options?: { cause?: unknown }) {
    super("HANDSHAKE", message, options);
    this.pid = facts.pid;
    this.timeoutMs = facts.timeoutMs;
  }
}

/** A relay address string that is not in RoadRunner syntax. */
export class RelayAddressError extends GoridgeError {
  declare readonly code: "BAD_RELAY_ADDRESS";
  /** The value that was rejected. */
  readonly value: string;

  constructor(value: string, reason: string) {
    super(
      "BAD_RELAY_ADDRESS",
      `bad relay address ${JSON.stringify(value)}: ${reason}; ` +
        'expected "pipes", "tcp://host:port" or "unix:///path/to.sock"',
    );
    this.value = value;
  }
}
