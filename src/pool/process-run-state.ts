/**
 * Whether a worker that does not echo event ids has written all it will for its last event,
 * judged from where its main thread is: `/proc/<pid>/syscall` (Linux), read through a descriptor
 * kept open so each look is one pread; `/proc/<pid>/stat` where that file cannot be read.
 *
 * After such a worker has replied, the pool holds it until this says it has settled
 * (docs/behaviour.md#replies-matched-to-their-events):
 * - running or waiting for a CPU: not settled, it may be between two writes;
 * - asleep in a call that waits for input (a read of its relay, poll, select, epoll): settled. A
 *   single-threaded worker there (PHP's, Python's) waits for its next event and writes nothing
 *   more until it gets one;
 * - asleep anywhere else (a lock, a page fault, a write still blocked, a sleep): not settled, once
 *   the worker has been seen waiting for input at least once. A worker never seen so (its main
 *   thread only joins others, as the JVM's launcher does) is judged by sleep alone, as before.
 * Where neither file can be read, every look says settled, and the hold is one poll of the relay.
 */
import { arch } from "node:process";
import { closeSync, openSync, readSync } from "node:fs";

// The syscall line is "running", or the call's number and its six arguments in hex, then the
// stack and instruction pointers; the stat line is a few hundred bytes. Either fits.
const LINE_BYTES = 512;
const RUNNING_STATE = "R".charCodeAt(0); // stat's state letter: running or runnable
const SPACE = " ".charCodeAt(0);
const RUNNING_FIRST = "r".charCodeAt(0); // the syscall file's "running"
const MINUS = "-".charCodeAt(0); // its "-1 …": asleep outside any call
const buffer = Buffer.alloc(LINE_BYTES);

/** Calls that read one descriptor (its number is the first argument), and calls that wait on many. */
interface InputCalls {
  readonly reads: ReadonlySet<number>;
  readonly waits: ReadonlySet<number>;
}

// Linux's syscall numbers for the architectures Node ships on Linux that tests here can reach.
// Elsewhere the syscall file is not used and the stat rule stands.
const INPUT_CALLS: Partial<Record<NodeJS.Architecture, InputCalls>> = {
  // read, readv, recvfrom, recvmsg, pread64 | poll, select, pselect6, ppoll, epoll_wait, epoll_pwait, epoll_pwait2
  x64: { reads: new Set([0, 19, 45, 47, 17]), waits: new Set([7, 23, 270, 271, 232, 281, 441]) },
  // read, readv, recvfrom, recvmsg, pread64 | pselect6, ppoll, epoll_pwait, epoll_pwait2
  arm64: { reads: new Set([63, 65, 207, 212, 67]), waits: new Set([72, 73, 22, 441]) },
};

/** Options of {@link ProcessRunState}. */
export interface RunStateOptions {
  /**
   * The descriptor the worker reads its events from, when the server knows it (0 for pipes). A
   * read of any other descriptor (a database socket) is then not a wait for the next event.
   */
  inputFd?: number;
}

export class ProcessRunState {
  #syscallFd: number | undefined;
  #statFd: number | undefined;
  readonly #calls: InputCalls | undefined = INPUT_CALLS[arch];
  readonly #inputFd: number | undefined;
  readonly #pid: number;
  /** Seen waiting for input once: from then on, asleep elsewhere is not settled. */
  #seenWaiting = false;

  constructor(pid: number, options: RunStateOptions = {}) {
    this.#inputFd = options.inputFd;
    this.#pid = pid;
    if (pid <= 0) return;
    if (this.#calls !== undefined) this.#syscallFd = tryOpen(`/proc/${pid}/syscall`);
    if (this.#syscallFd === undefined) this.#statFd = tryOpen(`/proc/${pid}/stat`);
  }

  /** True once the worker has written all it will for its last event, as far as can be told. */
  get settled(): boolean {
    if (this.#syscallFd !== undefined) {
      const length = tryRead(this.#syscallFd);
      if (length !== undefined) return this.#settledAt(length);
      // Unreadable from now on (the worker changed user, or made itself undumpable): stat is
      // readable by anyone.
      this.#release();
      this.#statFd = tryOpen(`/proc/${this.#pid}/stat`);
    }
    if (this.#statFd !== undefined) {
      const length = tryRead(this.#statFd);
      if (length === undefined) return true;
      // The command name (in parentheses) may hold spaces and ')': the state follows the last ')'.
      const close = buffer.lastIndexOf(0x29, length - 1);
      return close < 0 || buffer[close + 2] !== RUNNING_STATE;
    }
    return true;
  }

  #settledAt(length: number): boolean {
    // "running" (also what the kernel says when it could not catch the thread still), or "-1 …"
    // for asleep outside any call (a page fault): not settled.
    const first = buffer[0];
    if (length === 0 || first === RUNNING_FIRST || first === MINUS) return false;
    const space = buffer.indexOf(SPACE, 0);
    if (space < 0 || space >= length) return false;
    const call = Number.parseInt(buffer.toString("latin1", 0, space), 10);
    const calls = this.#calls!;
    let waiting = calls.waits.has(call);
    if (!waiting && calls.reads.has(call)) {
      if (this.#inputFd === undefined) waiting = true;
      else {
        const end = buffer.indexOf(SPACE, space + 1);
        const fd = Number.parseInt(buffer.toString("latin1", space + 1, end < 0 ? length : end), 16);
        waiting = fd === this.#inputFd;
      }
    }
    if (waiting) {
      this.#seenWaiting = true;
      return true;
    }
    return !this.#seenWaiting;
  }

  close(): void {
    this.#release();
    if (this.#statFd !== undefined) closeQuietly(this.#statFd);
    this.#statFd = undefined;
  }

  #release(): void {
    if (this.#syscallFd !== undefined) closeQuietly(this.#syscallFd);
    this.#syscallFd = undefined;
  }
}

function tryOpen(path: string): number | undefined {
  try {
    return openSync(path, "r");
  } catch {
    return undefined;
  }
}

function tryRead(fd: number): number | undefined {
  try {
    return readSync(fd, buffer, 0, LINE_BYTES, 0);
  } catch {
    return undefined;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already gone with its process: nothing to release.
  }
}
