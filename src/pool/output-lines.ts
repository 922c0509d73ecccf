/**
 * Cuts a worker's stderr (or stdout on socket relays) into lines for the log. A line longer than
 * the limit is passed on in pieces, so a worker that never writes a newline cannot make the
 * server hold an unbounded buffer. The last few lines are kept, to explain a failed start.
 */
import { LIMITS } from "../limits.js";

const NEWLINE = 0x0a;
const TAIL_LINES = 10;

/**
 * Told each line, without its newline. `complete` is false for a piece of a longer line, cut at
 * the limit (the rest of that line follows).
 */
export type OnLine = (line: string, complete: boolean) => void;

/** Lines out of chunks of bytes. */
export class OutputLines {
  readonly #onLine: OnLine;
  readonly #maxLineBytes: number;
  #partial: Buffer[] = [];
  #partialLength = 0;
  readonly #tail: string[] = [];

  constructor(onLine: OnLine, maxLineBytes: number = LIMITS.workerOutputLine.value) {
    this.#onLine = onLine;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Feeds a chunk; emits each complete line (without its newline or a trailing CR). */
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) break;
      this.#append(chunk.subarray(start, end));
      this.#emit(this.#take(), true);
      start = end + 1;
    }
    this.#append(chunk.subarray(start));
  }

  /** Emits what is left after the last newline. */
  end(): void {
    if (this.#partialLength > 0) this.#emit(this.#take(), true);
  }

  /** The last lines seen, oldest first. */
  tail(): readonly string[] {
    return this.#tail;
  }

  // Buffers part of a line, passing on a full piece whenever the line goes past the limit. A line
  // of exactly the limit waits for its newline, so it is one complete line, not a piece and an
  // empty line after it.
  #append(bytes: Buffer): void {
    let rest = bytes;
    while (this.#partialLength + rest.length > this.#maxLineBytes) {
      const room = this.#maxLineBytes - this.#partialLength;
      this.#partial.push(rest.subarray(0, room));
      this.#partialLength += room;
      this.#emit(this.#take(), false);
      rest = rest.subarray(room);
    }
    if (rest.length > 0) {
      // Copied: the chunk's memory may be reused by the stream.
      this.#partial.push(Buffer.from(rest));
      this.#partialLength += rest.length;
    }
  }

  #take(): string {
    const parts = this.#partial;
    const text = (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)).toString("utf8");
    this.#partial = [];
    this.#partialLength = 0;
    return text.endsWith("\r") ? text.slice(0, -1) : text;
  }

  #emit(line: string, complete: boolean): void {
    if (this.#tail.push(line) > TAIL_LINES) this.#tail.shift();
    this.#onLine(line, complete);
  }
}
