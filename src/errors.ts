/**
 * The one error base of rr-tcp. Every error rr-tcp throws is an {@link RrTcpError}: a stable
 * `code` to branch on (never the message), the facts a reader of one log line needs (the
 * connection's uuid, the worker's pid, the config key, the address), and the `cause` it came from.
 * Families (FrameError, PoolError, ConfigError, ListenError, ...) narrow `code` and add their own
 * facts; callers that hold an `unknown` use {@link RrTcpError.from} or {@link errorCode}, never a cast.
 *
 * This module imports nothing of rr-tcp, so every folder may use it.
 */

/** The facts an error may name. Each is what the reader needs to find the thing involved. */
export interface ErrorFacts {
  /** The client connection's uuid (the context's `uuid`). */
  readonly uuid?: string;
  /** The worker process's OS pid. */
  readonly pid?: number;
  /** The config key path, dotted from the top of the file: `tcp.pool.allocate_timeout`. */
  readonly key?: string;
  /** The address involved, as the user wrote it or as it was bound. */
  readonly address?: string;
}

export interface RrTcpErrorOptions extends ErrorFacts {
  readonly cause?: unknown;
}

/** Base of every error rr-tcp throws. */
export class RrTcpError<Code extends string = string> extends Error {
  /** Stable, machine-readable reason. */
  readonly code: Code;
  readonly uuid: string | undefined;
  readonly pid: number | undefined;
  readonly key: string | undefined;
  readonly address: string | undefined;

  constructor(code: Code, message: string, options: RrTcpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.uuid = options.uuid;
    this.pid = options.pid;
    this.key = options.key;
    this.address = options.address;
  }

  /**
   * `err` as an RrTcpError: itself when it is one, else one with `code` (default `INTERNAL`), the
   * original's message, and the original as its cause. A thrown non-Error becomes its text.
   */
  static from(err: unknown, code = "INTERNAL"): RrTcpError {
    if (err instanceof RrTcpError) return err;
    if (err instanceof Error) return new RrTcpError(code, err.message, { cause: err });
    return new RrTcpError(code, typeof err === "string" ? err : `non-error thrown: ${String(err)}`, { cause: err });
  }
}

/**
 * The `code` of anything thrown: an RrTcpError's code, a Node system error's errno code (`EPIPE`,
 * `EADDRINUSE`), or undefined.
 */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof RrTcpError) return err.code;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
