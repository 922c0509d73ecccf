/**
 * Groups a worker's output lines into log records, so that what a worker wrote together is read
 * together: an exception with its stack trace is one record, not twenty interleaved with other
 * workers' lines. Lines join the open record when they come within a short quiet window of the
 * one before (the lines of one write, or of a burst of writes, arrive within it), and stack-trace
 * lines (indented lines, `#0 ...`, `Stack trace:`, `Caused by ...`) keep a record open longer,
 * for a trace written line by line by a busy process. A record is logged once the window has
 * passed without a line, and it is bounded in bytes and lines, so a worker that writes without
 * pause gets a record at each bound, never an endless one.
 *
 * The window runs on a {@link Clock}: the real one, since it waits for the operating system (like
 * the grace for an exited worker's last words), not for a limit of the pool; tests pass their own.
 */
import { LIMITS } from "../limits.js";
import { realClock, type Clock, type Timer } from "./clock.js";

/** How long after a line the next still belongs to its record. */
export const RECORD_QUIET_MS = 10;
/** How long a record stays open after a stack-trace line. */
export const TRACE_QUIET_MS = 50;

/** A line that continues a stack trace or an error report begun by the lines before it. */
const CONTINUATION = /^(?:\s+\S|#\d+ |Stack trace:|Caused by\b)/;

/** Options of {@link OutputRecords}; each defaults to the constants above and src/limits.ts. */
export interface OutputRecordsOptions {
  readonly clock?: Clock;
  readonly quietMs?: number;
  readonly traceQuietMs?: number;
  readonly maxBytes?: number;
  readonly maxLines?: number;
}

/** Records (lines joined by "\n") out of lines. */
export class OutputRecords {
  readonly #onRecord: (text: string) => void;
  readonly #clock: Clock;
  readonly #quietMs: number;
  readonly #traceQuietMs: number;
  readonly #maxBytes: number;
  readonly #maxLines: number;
  #lines: string[] = [];
  #bytes = 0;
  #lastAt = 0;
  #timer: Timer | undefined;
  /** Inside a line longer than the line limit: its pieces are records of their own. */
  #inLongLine = false;

  constructor(onRecord: (text: string) => void, options: OutputRecordsOptions = {}) {
    this.#onRecord = onRecord;
    this.#clock = options.clock ?? realClock;
    this.#quietMs = options.quietMs ?? RECORD_QUIET_MS;
    this.#traceQuietMs = options.traceQuietMs ?? TRACE_QUIET_MS;
    this.#maxBytes = options.maxBytes ?? LIMITS.workerOutputRecord.value;
    this.#maxLines = options.maxLines ?? LIMITS.workerOutputRecordLines.value;
  }

  /**
   * Takes one line. `complete` is false for a piece of a line cut at the line limit: such pieces
   * (and the rest of their line) are logged alone, since joining them with "\n" would add line
   * breaks the worker never wrote.
   */
  line(text: string, complete = true): void {
    if (!complete || this.#inLongLine) {
      this.flush();
      this.#inLongLine = !complete;
      this.#onRecord(text);
      return;
    }
    const now = this.#clock.now();
    const bytes = Buffer.byteLength(text);
    const continues = CONTINUATION.test(text) || now - this.#lastAt <= this.#quietMs;
    const fits = this.#lines.length < this.#maxLines && this.#bytes + bytes + 1 <= this.#maxBytes;
    if (this.#lines.length > 0 && !(continues && fits)) this.flush();
    this.#lines.push(text);
    this.#bytes += bytes + 1;
    this.#lastAt = now;
    this.#timer?.cancel();
    const hold = CONTINUATION.test(text) ? this.#traceQuietMs : this.#quietMs;
    this.#timer = this.#clock.setTimeout(() => this.flush(), hold, { unref: true });
  }

  /** Logs the open record now (the stream ended, or a record must not wait). */
  flush(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#lines.length === 0) return;
    const text = this.#lines.join("\n");
    this.#lines = [];
    this.#bytes = 0;
    this.#onRecord(text);
  }
}
