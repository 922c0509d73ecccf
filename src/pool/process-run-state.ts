/**
 * Whether a process is running (or waiting for a CPU) right now, from the state field of
 * `/proc/<pid>/stat` (Linux), read through a descriptor kept open so each look is one pread.
 *
 * After a worker that does not echo event ids has replied, the pool holds it until this says it
 * is asleep: a single-threaded worker (PHP's) asleep has written all it will write for that
 * event and waits for the next one, while one that is runnable may be about to write a second
 * reply (docs/behaviour.md#replies-matched-to-their-events). Where /proc cannot be read, every
 * look answers "asleep", and the hold is one poll of the relay.
 */
import { closeSync, openSync, readSync } from "node:fs";

// The stat line is a few hundred bytes; the state is the first field after the command name.
const STAT_BYTES = 512;
const RUNNING = 0x52; // "R": running or runnable
const buffer = Buffer.alloc(STAT_BYTES);

export class ProcessRunState {
  #fd: number | undefined;

  constructor(pid: number) {
    try {
      this.#fd = pid > 0 ? openSync(`/proc/${pid}/stat`, "r") : undefined;
    } catch {
      this.#fd = undefined;
    }
  }

  /** False while the process is running or runnable; true otherwise, or when it cannot be told. */
  get asleep(): boolean {
    const fd = this.#fd;
    if (fd === undefined) return true;
    let length: number;
    try {
      length = readSync(fd, buffer, 0, STAT_BYTES, 0);
    } catch {
      return true;
    }
    // The command name (in parentheses) may hold spaces and ')': the state follows the last ')'.
    const close = buffer.lastIndexOf(0x29, length - 1);
    return close < 0 || buffer[close + 2] !== RUNNING;
  }

  close(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // Already gone with its process: nothing to release.
    }
    this.#fd = undefined;
  }
}
