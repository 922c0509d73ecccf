/**
 * The pipes relay read and written with blocking system calls, as PHP's worker does: one
 * `read(0)` per request and one `write(1)` per reply, with nothing in between. No stream, no
 * promise and no turn of the event loop per frame, so a worker whose handler is synchronous
 * costs two system calls per event (docs/wire.md#relays, `serve()`'s blocking mode).
 *
 * The price: while the worker waits for its next request it sleeps in `read(0)`, so nothing else
 * in the process runs then (timers, sockets, signal handlers). Needs fd 0 in blocking mode, which
 * it is unless something in the process opened `process.stdin` (that makes libuv set
 * O_NONBLOCK); a read that would block then ends the blocking mode: the relay goes on over
 * `process.stdin` as the event-loop relay does, the bytes already read first.
 */
import { readSync, writeSync } from "node:fs";
import type { Writable } from "node:stream";
import { errorCode } from "../errors.js";
import {
  DEFAULT_MAX_PAYLOAD_SIZE,
  encodePayloadFrame,
  HEADER_BASE_SIZE,
  PAYLOAD_HEADER_SIZE,
  readFrameLength,
  sliceFrame,
  type Frame,
} from "../goridge/index.js";
import { describeFrame, headerSizeFor, truncatedError } from "../goridge/frame.js";
import { HeaderConstant } from "../../gen/ts/rr/goridge/v1/goridge.js";
import { RelayClosedError, StreamRelay, type Relay } from "../relay/index.js";

/** Thrown by {@link PipeRelay.receiveSync} when fd 0 is non-blocking and has nothing to read. */
export class WouldBlock extends Error {
  constructor() {
    super("the relay's input is non-blocking and empty: reading it would block");
    this.name = "WouldBlock";
  }
}

/** Options of a {@link PipeRelay}. */
export interface PipeRelayOptions {
  /** Frames in; default 0. */
  inputFd?: number;
  /** Frames out; default 1. */
  outputFd?: number;
  /**
   * The real stdout as a stream (the stdout guard's `relayOutput`): a reply that does not fit in
   * the pipe at once (fd 1 is non-blocking and the pipe is full) is written through it, and the
   * relay uses it once reading falls back to the event loop.
   */
  output: Writable;
  /** Largest accepted payload in bytes; default 256 MiB. */
  maxPayloadSize?: number;
  /** Name used in errors; default `pipes`. */
  name?: string;
}

// Requests are read into an arena: a block that later reads append to, never overwrite, so a
// body the handler keeps stays intact after the next read. A new arena is taken when the free
// room falls under MIN_FREE (or a frame needs more), and the old one is freed once no request
// holds a view into it: one allocation per some 50-100 small requests, not one per request. A
// body kept for long keeps its arena (at most ARENA_SIZE) alive, as a small Buffer keeps Node's
// 8 KiB pool slab.
const ARENA_SIZE = 16 * 1024;
const MIN_FREE = 4 * 1024;
// Replies are encoded into one buffer kept for the next reply; one that outgrew this is not kept.
const OUT_KEEP = 64 * 1024;
// Byte 0 of a header: the version in its high nibble (the low one is the header's words).
const VERSION_NIBBLE = HeaderConstant.VERSION << 4;
// A reply's header with its event id: the context length and the id as options.
const PAYLOAD_HEADER_WITH_ID_SIZE = headerSizeFor(2);

// CRC-32/IEEE (zlib's) of the 6 header bytes the CRC covers, in JS: a call into zlib with a view
// of those bytes costs more than the 6 table steps.
const CRC_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}

function headerCrc(bytes: Uint8Array, offset: number): number {
  let c = -1;
  for (let i = offset; i < offset + 6; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * A {@link Relay} on the process's own pipes with blocking reads and writes. `receiveSync()` is
 * the worker's fast path; `receive()` is the same read behind a promise, for code written against
 * the Relay interface.
 */
export class PipeRelay implements Relay {
  readonly name: string;
  readonly #in: number;
  readonly #out: number;
  readonly #output: Writable;
  readonly #maxPayloadSize: number;
  #arena: Buffer = Buffer.allocUnsafeSlow(ARENA_SIZE);
  #reply: Buffer = Buffer.allocUnsafeSlow(4096);
  // Unparsed bytes are arena[#start, #end).
  #start = 0;
  #end = 0;
  // Why the relay closed: undefined while open; null when closed by close().
  #reason: Error | null | undefined;
  readonly #closeCallbacks: Array<(err?: Error) => void> = [];
  // Replies written through #output and not yet flushed: while there are any, later frames queue
  // behind them, and the worker must let the event loop run before it blocks in a read.
  #queued = 0;
  #flushed: Promise<void> | undefined;
  #resolveFlushed: (() => void) | undefined;
  // Set once reads go through the event loop (fd 0 turned out non-blocking).
  #stream: StreamRelay | undefined;

  constructor(options: PipeRelayOptions) {
    this.name = options.name ?? "pipes";
    this.#in = options.inputFd ?? 0;
    this.#out = options.outputFd ?? 1;
    this.#output = options.output;
    this.#maxPayloadSize = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
  }

  /** Why the relay closed (end of stream, a read or write error, a bad frame), if it did. */
  get closeReason(): Error | undefined {
    return this.#reason ?? undefined;
  }

  /** True once reads go through the event loop, because fd 0 is non-blocking. */
  get isEventLoop(): boolean {
    return this.#stream !== undefined;
  }

  get isClosed(): boolean {
    return this.#stream?.isClosed ?? this.#reason !== undefined;
  }

  get hasUnread(): boolean {
    return this.#stream?.hasUnread ?? this.#end > this.#start;
  }

  /**
   * A promise while replies wait in the output stream (fd 1 was full), resolved once they are
   * written or the relay closed; undefined when everything sent is in the pipe.
   */
  get flushing(): Promise<void> | undefined {
    return this.#queued > 0 ? this.#flushed : undefined;
  }

  /**
   * The next frame, read with blocking reads: at most one `read(0)` when the frame is not
   * buffered yet, more only for a frame larger than what one read returns. The frame's payload is
   * a view into memory no later read overwrites.
   *
   * @returns the frame, or null at end of stream between frames (the server went away).
   * @throws FrameError for a bad header or TRUNCATED at end of stream mid-frame (the relay is
   *   then closed with it), RelayClosedError once closed, {@link WouldBlock} when fd 0 is
   *   non-blocking and empty (call {@link toEventLoop}, then `receive()`).
   */
  receiveSync(): Frame | null {
    if (this.#stream !== undefined) throw new WouldBlock();
    if (this.#reason !== undefined) throw this.#closedError();
    for (;;) {
      const buffered = this.#end - this.#start;
      let need = HEADER_BASE_SIZE;
      if (buffered >= HEADER_BASE_SIZE) {
        need = this.#frameLength();
        if (buffered >= need) {
          const frame = sliceFrame(this.#arena, this.#start, need);
          this.#start += need;
          return frame;
        }
      }
      if (!this.#fill(need)) {
        if (buffered === 0) {
          this.#settle(new RelayClosedError(this.name, "the peer closed it (end of stream)"));
          return null;
        }
        const err =
          need === HEADER_BASE_SIZE
            ? truncatedError(buffered, HEADER_BASE_SIZE, "frame header")
            : truncatedError(buffered, need, describeFrame(this.#arena, this.#start));
        this.#settle(err);
        throw err;
      }
    }
  }

  receive(): Promise<Frame> {
    if (this.#stream !== undefined) return this.#stream.receive();
    try {
      const frame = this.receiveSync();
      return frame === null ? Promise.reject(this.#closedError()) : Promise.resolve(frame);
    } catch (err) {
      if (!(err instanceof WouldBlock)) return Promise.reject(err as Error);
      return this.toEventLoop().receive();
    }
  }

  /**
   * Writes one encoded frame with blocking writes to fd 1; when fd 1 is non-blocking and full,
   * the rest goes through the output stream ({@link flushing} says when it is out). A broken pipe
   * closes the relay (the next receive reports it), as the event-loop relay does.
   *
   * @throws RelayClosedError if the relay is closed.
   */
  send(frame: Buffer): void {
    if (this.#stream !== undefined) {
      this.#stream.send(frame);
      return;
    }
    if (this.#reason !== undefined) {
      const err = this.#closedError();
      throw err instanceof RelayClosedError ? err : new RelayClosedError(this.name, err.message, { cause: err });
    }
    if (this.#queued > 0) {
      this.#queue(frame);
      return;
    }
    let written = 0;
    try {
      while (written < frame.length) written += writeSync(this.#out, frame, written, frame.length - written);
    } catch (err) {
      if (errorCode(err) === "EAGAIN") this.#queue(frame.subarray(written));
      else this.#fail(err as Error);
    }
  }

  /**
   * Sends a payload frame (options `[context length]`, or `[context length, eventId]`) encoded
   * into a buffer kept from one reply to the next, in one write: what {@link send} of
   * `encodePayloadFrame(context, body, flags, 0, eventId)` sends, without a new frame per reply.
   *
   * @throws RelayClosedError if the relay is closed.
   */
  sendPayload(context: Uint8Array, body: Uint8Array, flags: number, eventId: number | undefined): void {
    const headerSize = eventId === undefined ? PAYLOAD_HEADER_SIZE : PAYLOAD_HEADER_WITH_ID_SIZE;
    const payloadLength = context.length + body.length;
    const size = headerSize + payloadLength;
    if (this.#stream !== undefined || this.#queued > 0 || size > OUT_KEEP || (flags & 0xff) !== flags) {
      // The frame outlives this call (queued) or is large: a buffer of its own.
      this.send(encodePayloadFrame(context, body, flags, 0, eventId));
      return;
    }
    if (this.#reply.length < size) this.#reply = Buffer.allocUnsafeSlow(Math.max(size, this.#reply.length * 2));
    const out = this.#reply;
    out[0] = VERSION_NIBBLE | (headerSize / HeaderConstant.WORD_SIZE);
    out[1] = flags;
    out.writeUInt32LE(payloadLength, 2);
    out.writeUInt32LE(headerCrc(out, 0), 6);
    out[10] = 0;
    out[11] = 0;
    out.writeUInt32LE(context.length, 12);
    if (eventId !== undefined) out.writeUInt32LE(eventId, 16);
    out.set(context, headerSize);
    out.set(body, headerSize + context.length);
    this.send(out.subarray(0, size));
  }

  /**
   * Goes on through the event loop: `process.stdin` (which makes fd 0 non-blocking for good) and
   * the output stream, with the bytes already read and not yet parsed delivered first.
   */
  toEventLoop(): StreamRelay {
    if (this.#stream !== undefined) return this.#stream;
    const input = process.stdin;
    if (this.#end > this.#start) input.unshift(Buffer.from(this.#arena.subarray(this.#start, this.#end)));
    this.#start = this.#end = 0;
    const stream = new StreamRelay(input, this.#output, { name: this.name, maxPayloadSize: this.#maxPayloadSize });
    this.#stream = stream;
    // Whoever opened stdin may have paused it; the relay reads it now.
    input.resume();
    for (const cb of this.#closeCallbacks.splice(0)) stream.onClose(cb);
    if (this.#reason !== undefined) stream.close();
    return stream;
  }

  close(): void {
    if (this.#stream !== undefined) {
      this.#stream.close();
      return;
    }
    // fd 0 and fd 1 are the process's: they stay open for it.
    this.#settle(null);
  }

  onClose(cb: (err?: Error) => void): void {
    if (this.#stream !== undefined) {
      this.#stream.onClose(cb);
      return;
    }
    if (this.#reason === undefined) {
      this.#closeCallbacks.push(cb);
      return;
    }
    const reason = this.#reason ?? undefined;
    queueMicrotask(() => cb(reason));
  }

  // The length of the frame whose 12 fixed header bytes are buffered; validates the header as the
  // streaming reader does, with its errors (which close the relay).
  #frameLength(): number {
    const arena = this.#arena;
    const start = this.#start;
    const words = (arena[start] as number) & 0x0f;
    const payloadLength = arena.readUInt32LE(start + 2);
    // The common case checked here; anything else gets readFrameLength's verdict and message.
    if (
      words >= 3 &&
      words <= 13 &&
      payloadLength <= this.#maxPayloadSize &&
      arena.readUInt32LE(start + 6) === headerCrc(arena, start)
    ) {
      return words * 4 + payloadLength;
    }
    try {
      return readFrameLength(this.#arena, this.#start, this.#maxPayloadSize);
    } catch (err) {
      this.#settle(err as Error);
      throw err;
    }
  }

  // Reads once, so that the buffered bytes may reach `need`; false at end of stream.
  #fill(need: number): boolean {
    const buffered = this.#end - this.#start;
    const room = this.#arena.length - this.#start;
    if (room < need || this.#arena.length - this.#end < MIN_FREE) {
      // A fresh arena; the unparsed bytes move to its start.
      const arena = Buffer.allocUnsafeSlow(Math.max(ARENA_SIZE, need + MIN_FREE));
      this.#arena.copy(arena, 0, this.#start, this.#end);
      this.#arena = arena;
      this.#start = 0;
      this.#end = buffered;
    }
    let n: number;
    try {
      n = readSync(this.#in, this.#arena, this.#end, this.#arena.length - this.#end, null);
    } catch (err) {
      if (errorCode(err) === "EAGAIN") throw new WouldBlock();
      const closed = new RelayClosedError(this.name, `${errorCode(err) ?? "read error"}: ${(err as Error).message}`, {
        cause: err,
      });
      this.#settle(closed);
      throw closed;
    }
    if (n === 0) return false;
    this.#end += n;
    return true;
  }

  #queue(bytes: Buffer): void {
    // The reply buffer is reused by the next reply: what waits must have bytes of its own.
    const rest = bytes.buffer === this.#reply.buffer ? Buffer.from(bytes) : bytes;
    if (this.#queued++ === 0) {
      this.#flushed = new Promise<void>((resolve) => (this.#resolveFlushed = resolve));
    }
    this.#output.write(rest, (err?: Error | null) => {
      if (err) this.#fail(err);
      if (--this.#queued === 0) this.#resolveFlushed?.();
    });
  }

  #fail(err: Error): void {
    if (this.#reason !== undefined) return;
    const code = errorCode(err);
    this.#settle(new RelayClosedError(this.name, `${code ?? "stream error"}: ${err.message}`, { cause: err }));
  }

  #settle(reason: Error | null): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    // Nothing will be written any more: a worker waiting for its output must not wait forever.
    if (this.#queued > 0) {
      this.#queued = 0;
      this.#resolveFlushed?.();
    }
    for (const cb of this.#closeCallbacks.splice(0)) cb(reason ?? undefined);
  }

  #closedError(): Error {
    const reason = this.#reason;
    if (reason instanceof Error) return reason;
    return new RelayClosedError(this.name, "it was closed locally");
  }
}
