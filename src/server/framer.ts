/**
 * Framers cut a client's byte stream into messages, one DATA event each. They are sans-IO: bytes
 * in with `push`, messages out with `next`, leftovers at end of stream with `finish`, so they are
 * tested with any chunking. Messages are views (`subarray`) of the bytes pushed, never copies of
 * them, and stay valid after later pushes: a framer never writes over bytes it has handed out.
 *
 * - delimiter: a message ends with the delimiter, wherever it falls, also split across pushes.
 * - raw: every push is a message (cut into pieces of at most `maxReadSize`).
 * - length: a big-endian unsigned prefix of 1, 2 or 4 bytes counts the bytes after it; the
 *   message handed out keeps its prefix.
 *
 * Each checks `maxMessageSize` as soon as it can: the delimiter framer when the bytes held
 * without a delimiter reach the limit, the length framer as soon as it has read a prefix.
 */
import { Framing } from "../../gen/ts/rr/tcp/v1/options.js";
import { RrTcpError } from "../errors.js";

/** A message is longer than the server's `max_message_size`. */
export class MessageTooLargeError extends RrTcpError<"MESSAGE_TOO_LARGE"> {
  constructor(
    /** The message's size in bytes, or the bytes held so far without its end (a lower bound). */
    readonly size: number,
    readonly limit: number,
    /** True when `size` is the message's exact size (known from a length prefix or a delimiter found). */
    readonly exact: boolean,
  ) {
    super("MESSAGE_TOO_LARGE", `message of ${exact ? "" : "at least "}${size} bytes exceeds max_message_size ${limit}`);
  }
}

/** Bytes in, messages out. */
export interface Framer {
  /** Adds bytes read from the socket; keeps a reference to `chunk` (does not copy it when it can). */
  push(chunk: Buffer): void;
  /** The next complete message, or undefined when more bytes are needed. @throws MessageTooLargeError */
  next(): Buffer | undefined;
  /** At end of stream, once `next()` returned undefined: the bytes that never completed a message. */
  finish(): Buffer | undefined;
  /** Bytes held and not yet handed out. */
  readonly buffered: number;
  /** Bytes of the buffers those are kept in (at least `buffered`): the memory they pin. */
  readonly retained: number;
}

/** How a framer is set up (a server's config, resolved). */
export interface FramerOptions {
  readonly framing: Framing;
  /** For delimiter framing; at least one byte. */
  readonly delimiter: Buffer;
  /** For length framing: 1, 2 or 4. */
  readonly lengthBytes: number;
  readonly maxMessageSize: number;
  /** For raw framing: the largest piece a read is cut into. */
  readonly maxReadSize: number;
}

const EMPTY = Buffer.alloc(0);
/** Buffers smaller than this are not worth copying a remainder out of. */
const COMPACT_ABOVE = 16 * 1024;

/**
 * Unconsumed bytes `buf[start, end)`, either a pushed chunk itself (`owned` false, never written)
 * or an accumulator this object allocated, appended to past `end` only.
 */
class ByteQueue {
  protected buf: Buffer = EMPTY;
  protected start = 0;
  protected end = 0;
  private owned = false;

  get buffered(): number {
    return this.end - this.start;
  }

  get retained(): number {
    // The whole allocation: a read's chunk is often a view of a larger one.
    return this.buf.buffer.byteLength;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.start === this.end) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.owned = false;
      return;
    }
    if (this.owned && this.buf.length - this.end >= chunk.length) {
      chunk.copy(this.buf, this.end);
      this.end += chunk.length;
      return;
    }
    // Grow by doubling so that a message arriving in many small reads is copied O(n) times overall.
    const held = this.end - this.start;
    const next = Buffer.allocUnsafe(Math.max(4096, 2 * (held + chunk.length)));
    this.buf.copy(next, 0, this.start, this.end);
    chunk.copy(next, held);
    this.buf = next;
    this.start = 0;
    this.end = held + chunk.length;
    this.owned = true;
  }

  /** The first `n` held bytes, as a view; they are never written again. */
  protected take(n: number): Buffer {
    const message = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    if (this.start === this.end) this.clear();
    return message;
  }

  /**
   * No whole message is left: what remains is the start of one, which may wait for a long time.
   * A small remainder must not keep a much larger buffer alive (the budget counts bytes held, not
   * buffers pinned: 300 clients each leaving 1 byte of a 1 MiB read pinned 330 MB), so it is
   * copied out. Messages handed out are views of the old buffer and stay valid.
   */
  protected settle(): undefined {
    const held = this.end - this.start;
    if (held > 0 && this.buf.length >= COMPACT_ABOVE && held * 4 <= this.buf.length) {
      const copy = Buffer.allocUnsafe(held);
      this.buf.copy(copy, 0, this.start, this.end);
      this.buf = copy;
      this.start = 0;
      this.end = held;
      this.owned = true;
    }
    return undefined;
  }

  protected clear(): void {
    this.buf = EMPTY;
    this.start = this.end = 0;
    this.owned = false;
  }

  finish(): Buffer | undefined {
    return this.end > this.start ? this.take(this.end - this.start) : undefined;
  }
}

/** Messages that end with a delimiter of one or more bytes. */
export class DelimiterFramer extends ByteQueue implements Framer {
  /** Offset from `start` where the next search begins: earlier positions cannot start a match. */
  private scanFrom = 0;

  constructor(
    private readonly delimiter: Buffer,
    private readonly maxMessageSize: number,
  ) {
    super();
    if (delimiter.length === 0) throw new RangeError("the delimiter must have at least one byte");
  }

  next(): Buffer | undefined {
    const held = this.end - this.start;
    if (held < this.delimiter.length) return this.settle();
    // A view ending at `end`, so the search never looks at an accumulator's spare capacity.
    const haystack = this.buf.length === this.end ? this.buf : this.buf.subarray(0, this.end);
    const at = haystack.indexOf(this.delimiter, this.start + this.scanFrom);
    if (at < 0) {
      if (held >= this.maxMessageSize) throw new MessageTooLargeError(held, this.maxMessageSize, false);
      this.scanFrom = held - this.delimiter.length + 1;
      return this.settle();
    }
    const size = at - this.start + this.delimiter.length;
    if (size > this.maxMessageSize) throw new MessageTooLargeError(size, this.maxMessageSize, true);
    this.scanFrom = 0;
    return this.take(size);
  }

  override finish(): Buffer | undefined {
    this.scanFrom = 0;
    return super.finish();
  }
}

/** Messages with a big-endian length prefix of 1, 2 or 4 bytes counting the bytes after it. */
export class LengthPrefixFramer extends ByteQueue implements Framer {
  constructor(
    private readonly lengthBytes: number,
    private readonly maxMessageSize: number,
  ) {
    super();
    if (lengthBytes !== 1 && lengthBytes !== 2 && lengthBytes !== 4)
      throw new RangeError(`length_bytes must be 1, 2 or 4, got ${lengthBytes}`);
  }

  next(): Buffer | undefined {
    if (this.end - this.start < this.lengthBytes) return this.settle();
    const size = this.lengthBytes + this.buf.readUIntBE(this.start, this.lengthBytes);
    if (size > this.maxMessageSize) throw new MessageTooLargeError(size, this.maxMessageSize, true);
    return this.end - this.start >= size ? this.take(size) : this.settle();
  }
}

/** Every read is a message. */
export class RawFramer implements Framer {
  private readonly queue: Buffer[] = [];
  private held = 0;

  constructor(
    private readonly maxReadSize: number,
    private readonly maxMessageSize: number,
  ) {}

  get buffered(): number {
    return this.held;
  }

  get retained(): number {
    let bytes = 0;
    for (const piece of this.queue) bytes += piece.buffer.byteLength;
    return bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    for (let at = 0; at < chunk.length; at += this.maxReadSize) {
      this.queue.push(at === 0 && chunk.length <= this.maxReadSize ? chunk : chunk.subarray(at, at + this.maxReadSize));
    }
    this.held += chunk.length;
  }

  next(): Buffer | undefined {
    const message = this.queue.shift();
    if (message === undefined) return undefined;
    this.held -= message.length;
    if (message.length > this.maxMessageSize) throw new MessageTooLargeError(message.length, this.maxMessageSize, true);
    return message;
  }

  finish(): Buffer | undefined {
    return undefined;
  }
}

/** The framer a server's options call for. */
export function createFramer(options: FramerOptions): Framer {
  switch (options.framing) {
    case Framing.RAW:
      return new RawFramer(options.maxReadSize, options.maxMessageSize);
    case Framing.LENGTH:
      return new LengthPrefixFramer(options.lengthBytes, options.maxMessageSize);
    default:
      return new DelimiterFramer(options.delimiter, options.maxMessageSize);
  }
}
