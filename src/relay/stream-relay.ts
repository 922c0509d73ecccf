/**
 * A relay carries frames both ways between RoadRunner's side and one worker. StreamRelay is the
 * one implementation: it runs over any pair of Node streams (a child's stdin/stdout, the process's
 * own stdin/stdout, or both directions of one socket).
 */
import { readSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { errorCode } from "../errors.js";
import { FrameError } from "../goridge/index.js";
import { RelayClosedError } from "./errors.js";
import type { Frame } from "../goridge/frame.js";
import { FrameReader } from "../goridge/frame-reader.js";

/** A frame channel to one peer. */
export interface Relay {
  /**
   * Writes one encoded frame (from the encoders of this package) in a single write.
   * @throws RelayClosedError if the relay is closed.
   */
  send(frame: Buffer): void;
  /**
   * The next frame, in arrival order. Rejects with the FrameError of a bad frame, FrameError
   * TRUNCATED if the peer stopped mid-frame, or RelayClosedError once the relay is closed.
   */
  receive(): Promise<Frame>;
  /** Closes both directions; pending `receive()` calls reject with RelayClosedError. Idempotent. */
  close(): void;
  /** True once the relay can carry no more frames. */
  readonly isClosed: boolean;
  /** True when bytes arrived that no `receive()` has taken yet: whole frames, or part of one. */
  readonly hasUnread: boolean;
  /**
   * Reads at once, without waiting, what the peer wrote that the event loop has not read yet,
   * and takes it as if it had just arrived. @returns false when there was nothing; true when
   * there was something, or when this relay cannot be read so (then the next poll reads it).
   * Only the pool's side needs it; a relay without it is read by the event loop alone.
   */
  readWaiting?(): boolean;
  /**
   * Calls `cb` once when the relay closes: with no argument after `close()`, else with the error
   * that closed it. Called soon after registering if the relay is already closed.
   */
  onClose(cb: (err?: Error) => void): void;
}

/** Options of a {@link StreamRelay}. */
export interface StreamRelayOptions {
  /** Largest accepted payload in bytes; default 256 MiB. */
  maxPayloadSize?: number;
  /** Name used in errors, for example `pipes pid 1234`. */
  name?: string;
}

interface Waiter {
  resolve(frame: Frame): void;
  reject(err: Error): void;
}

type InputStream = NodeJS.ReadableStream | Readable;

// For readWaiting(): one scratch buffer, copied from only when something was there.
const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | undefined;

/**
 * A {@link Relay} over a readable (frames in) and a writable (frames out). Both may be the same
 * duplex, a socket. Frames that arrive while nobody waits in `receive()` are queued.
 */
export class StreamRelay implements Relay {
  /** Name used in errors. */
  readonly name: string;
  readonly #input: InputStream;
  readonly #output: Writable;
  readonly #reader: FrameReader;
  readonly #frames: Frame[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #closeCallbacks: Array<(err?: Error) => void> = [];
  // Why the relay closed: undefined while open; null when closed by close().
  #reason: Error | null | undefined;
  #drained: Promise<void> | undefined;
  #onDrainOrClose: (() => void) | undefined;

  // Bound once here, not per chunk, to keep the data path free of allocations.
  readonly #onData = (chunk: Buffer | string): void => {
    try {
      this.#reader.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk, this.#onFrame);
    } catch (err) {
      this.#fail(err as Error);
    }
  };
  readonly #onFrame = (frame: Frame): void => {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(frame);
    else this.#frames.push(frame);
  };
  readonly #onEnd = (): void => {
    try {
      this.#reader.end();
      this.#fail(new RelayClosedError(this.name, "the peer closed it (end of stream)"));
    } catch (err) {
      this.#fail(err as Error);
    }
  };
  readonly #onError = (err: Error): void => {
    const code = errorCode(err);
    this.#fail(new RelayClosedError(this.name, `${code ?? "stream error"}: ${err.message}`, { cause: err }));
  };
  readonly #onInputClose = (): void => {
    this.#fail(new RelayClosedError(this.name, "the input stream closed"));
  };
  readonly #onOutputClose = (): void => {
    this.#fail(new RelayClosedError(this.name, "the output stream closed"));
  };

  constructor(readable: InputStream, writable: Writable, opts?: StreamRelayOptions) {
    this.name = opts?.name ?? "stream";
    this.#input = readable;
    this.#output = writable;
    this.#reader = new FrameReader({
      ...(opts?.maxPayloadSize !== undefined && { maxPayloadSize: opts.maxPayloadSize }),
    });
    readable.on("data", this.#onData);
    readable.on("end", this.#onEnd);
    readable.on("error", this.#onError);
    readable.on("close", this.#onInputClose);
    if ((writable as unknown) !== readable) {
      writable.on("error", this.#onError);
      writable.on("close", this.#onOutputClose);
    }
  }

  get isClosed(): boolean {
    return this.#reason !== undefined;
  }

  get hasUnread(): boolean {
    return this.#frames.length > 0 || this.#reader.bufferedBytes > 0;
  }

  readWaiting(): boolean {
    if (this.#reason !== undefined) return true;
    // The descriptor under a net.Socket (a child's stdout, a relay connection): libuv keeps it
    // non-blocking, so a read answers EAGAIN when the kernel holds nothing for it.
    const fd = (this.#input as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) return true;
    scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
    let length: number;
    // EAGAIN is the common answer and is thrown: without a stack it costs a third less.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      length = readSync(fd, scratch, 0, SCRATCH_BYTES, null);
    } catch (err) {
      return errorCode(err) !== "EAGAIN";
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    // 0 is the end of the stream: left for the stream to notice on its next read.
    if (length > 0) this.#onData(Buffer.from(scratch.subarray(0, length)));
    return true;
  }

  send(frame: Buffer): void {
    if (this.#reason !== undefined) {
      const err = this.#closedError();
      throw err instanceof RelayClosedError ? err : new RelayClosedError(this.name, err.message, { cause: err });
    }
    // One write per frame: a reader that reads the 12-byte header in one call (PHP) must never
    // see it split across writes.
    this.#output.write(frame);
  }

  receive(): Promise<Frame> {
    const frame = this.#frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    if (this.#reason !== undefined) return Promise.reject(this.#closedError());
    return new Promise<Frame>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  /**
   * Resolves when the output has room again (after a write returned false), at once if it has
   * room now, and also when the relay closes, so a writer never waits forever.
   */
  drained(): Promise<void> {
    if (this.#reason !== undefined || !this.#output.writableNeedDrain) return Promise.resolve();
    this.#drained ??= new Promise<void>((resolve) => {
      const output = this.#output;
      const done = (): void => {
        output.off("drain", done);
        this.#drained = undefined;
        this.#onDrainOrClose = undefined;
        resolve();
      };
      this.#onDrainOrClose = done;
      output.on("drain", done);
    });
    return this.#drained;
  }

  close(): void {
    if (this.#reason !== undefined) return;
    this.#settle(null);
    const input = this.#input;
    const output = this.#output;
    // process.stdout/stderr cannot be closed by a library: leave them for the process.
    const ownsOutput = output !== process.stdout && output !== process.stderr;
    if (input === (output as unknown)) {
      // A socket: flush what was written, then release it.
      output.end(() => output.destroy());
    } else {
      if (ownsOutput) output.end();
      destroyInput(input);
    }
  }

  onClose(cb: (err?: Error) => void): void {
    if (this.#reason === undefined) {
      this.#closeCallbacks.push(cb);
      return;
    }
    const reason = this.#reason ?? undefined;
    queueMicrotask(() => cb(reason));
  }

  // Closes because of an error from the streams or the reader; the first reason wins.
  #fail(err: Error): void {
    if (this.#reason !== undefined) return;
    this.#settle(err);
    destroyInput(this.#input);
  }

  #settle(reason: Error | null): void {
    this.#reason = reason;
    this.#input.off("data", this.#onData);
    // Frames already queued stay receivable; waiters exist only when the queue is empty.
    const waiters = this.#waiters.splice(0);
    if (waiters.length > 0) {
      const err = this.#closedError();
      for (const waiter of waiters) waiter.reject(err);
    }
    this.#onDrainOrClose?.();
    const callbacks = this.#closeCallbacks.splice(0);
    for (const cb of callbacks) cb(reason ?? undefined);
  }

  #closedError(): Error {
    const reason = this.#reason;
    if (reason instanceof FrameError || reason instanceof RelayClosedError) return reason;
    if (reason === null || reason === undefined) {
      return new RelayClosedError(this.name, "it was closed locally");
    }
    return new RelayClosedError(this.name, reason.message, { cause: reason });
  }
}

function destroyInput(input: InputStream): void {
  const stream = input as Partial<Readable>;
  if (typeof stream.destroy === "function") stream.destroy();
  else input.pause();
}
