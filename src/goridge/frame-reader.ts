/**
 * Sans-IO streaming frame parser: bytes in, frames out, under any chunking of the input.
 */
import { LIMITS, type Limit } from "../limits.js";
import { FrameError } from "./errors.js";
import { HEADER_BASE_SIZE, describeFrame, readFrameLength, sliceFrame, truncatedError, type Frame } from "./frame.js";

/** Options of a {@link FrameReader}. */
export interface FrameReaderOptions {
  /** Largest accepted payload in bytes; default `payloadLimit`'s value. Checked as soon as a header is complete. */
  maxPayloadSize?: number;
  /** The limit that `maxPayloadSize` is, as errors name it; default LIMITS.framePayload (src/limits.ts). */
  payloadLimit?: Limit;
}

// Marks buffered bytes left unparsed because an onFrame callback threw (see push).
const UNPARSED = 0;

/**
 * Parses a byte stream into frames.
 *
 * - Accepts any chunking, down to one byte at a time, a header split across chunks included.
 * - Rejects a bad header (CRC, length, size limit) as soon as its 12 fixed bytes are in, before
 *   buffering the payload it announces.
 * - A frame that lies wholly inside one chunk gets a payload that is a view into that chunk, not
 *   a copy; so chunks must not be modified after they are pushed. A frame split across chunks is
 *   copied once, when its last byte arrives.
 * - After a {@link FrameError} the reader is poisoned: every later `push` or `end` throws it again.
 */
export class FrameReader {
  readonly #maxPayloadSize: number;
  readonly #payloadLimit: Limit;
  // Buffered bytes of an incomplete frame; pending[0] starts at the frame's first byte.
  #pending: Buffer[] = [];
  #pendingLength = 0;
  // Bytes the buffered frame needs before it can progress: the fixed header until that is in,
  // then the whole frame.
  #need = HEADER_BASE_SIZE;
  #failure: FrameError | undefined;

  constructor(opts?: FrameReaderOptions) {
    this.#payloadLimit = opts?.payloadLimit ?? LIMITS.framePayload;
    this.#maxPayloadSize = opts?.maxPayloadSize ?? this.#payloadLimit.value;
  }

  /** Bytes held for a frame that is not complete yet. */
  get bufferedBytes(): number {
    return this.#pendingLength;
  }

  /**
   * Feeds a chunk; calls `onFrame` synchronously for each frame it completes, in order.
   * If `onFrame` throws, the error propagates and the bytes after that frame stay buffered: the
   * next `push` (an empty chunk will do) parses them.
   *
   * @throws FrameError for a bad frame; the reader is then poisoned.
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#pendingLength === 0) {
      this.#consume(chunk, 0, onFrame);
      return;
    }
    if (this.#need === UNPARSED) {
      this.#pending.push(chunk);
      const bytes = Buffer.concat(this.#pending, this.#pendingLength + chunk.length);
      this.#reset();
      this.#consume(bytes, 0, onFrame);
      return;
    }
    let offset = 0;
    for (;;) {
      const missing = this.#need - this.#pendingLength;
      if (chunk.length - offset < missing) {
        this.#hold(chunk.subarray(offset));
        return;
      }
      this.#hold(chunk.subarray(offset, offset + missing));
      offset += missing;
      const bytes = Buffer.concat(this.#pending, this.#pendingLength);
      if (this.#need === HEADER_BASE_SIZE) {
        // The header just completed: validate it before buffering what it announces.
        const frameLength = this.#readLength(bytes, 0);
        if (frameLength > HEADER_BASE_SIZE) {
          this.#pending = [bytes];
          this.#need = frameLength;
          continue;
        }
      }
      this.#reset();
      this.#deliver(sliceFrame(bytes, 0, bytes.length), chunk, offset, onFrame);
      break;
    }
    this.#consume(chunk, offset, onFrame);
  }

  /**
   * Declares the end of input.
   *
   * @throws FrameError TRUNCATED if a partial frame is buffered (saying how many bytes of what are
   *   missing); the reader is then poisoned.
   */
  end(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#pendingLength === 0) return;
    if (this.#need === UNPARSED) {
      throw new FrameError(
        "UNREAD_FRAMES",
        `${this.#pendingLength} bytes are unparsed because an onFrame callback threw; push again to parse them`,
      );
    }
    const first = this.#pending[0] as Buffer;
    this.#failure =
      this.#need === HEADER_BASE_SIZE
        ? truncatedError(this.#pendingLength, HEADER_BASE_SIZE, "frame header")
        : truncatedError(this.#pendingLength, this.#need, describeFrame(first, 0));
    throw this.#failure;
  }

  // Parses whole frames from bytes[offset..] and buffers any incomplete tail.
  #consume(bytes: Buffer, offset: number, onFrame: (frame: Frame) => void): void {
    const end = bytes.length;
    while (end - offset >= HEADER_BASE_SIZE) {
      const frameLength = this.#readLength(bytes, offset);
      if (end - offset < frameLength) {
        this.#hold(bytes.subarray(offset));
        this.#need = frameLength;
        return;
      }
      const frame = sliceFrame(bytes, offset, frameLength);
      offset += frameLength;
      this.#deliver(frame, bytes, offset, onFrame);
    }
    if (offset < end) this.#hold(bytes.subarray(offset));
  }

  #deliver(frame: Frame, bytes: Buffer, rest: number, onFrame: (frame: Frame) => void): void {
    try {
      onFrame(frame);
    } catch (err) {
      if (rest < bytes.length) {
        this.#hold(bytes.subarray(rest));
        this.#need = UNPARSED;
      }
      throw err;
    }
  }

  #readLength(bytes: Buffer, offset: number): number {
    try {
      return readFrameLength(bytes, offset, this.#maxPayloadSize, this.#payloadLimit);
    } catch (err) {
      this.#failure = err as FrameError;
      this.#reset();
      throw err;
    }
  }

  #hold(bytes: Buffer): void {
    this.#pending.push(bytes);
    this.#pendingLength += bytes.length;
  }

  #reset(): void {
    this.#pending = [];
    this.#pendingLength = 0;
    this.#need = HEADER_BASE_SIZE;
  }
}
