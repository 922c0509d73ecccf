/**
 * The operating-system side of a worker: the child process. Spawns it in its own process group,
 * logs its stderr (and stdout on socket relays) as records of the lines written together, kills
 * it and its group, and
 * reports its exit. Knows nothing of frames or events: that is the {@link RelaySession}'s job,
 * and what a worker is doing is {@link WorkerProcess}'s.
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import type { Logger } from "pino";
import type { Clock } from "./clock.js";
import { describeExit } from "./errors.js";
import { OutputLines } from "./output-lines.js";
import { OutputRecords } from "./output-records.js";

/** How a process ended: its exit code, or the signal that killed it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What to spawn, and who hears of its exit. */
export interface WorkerChildOptions {
  readonly command: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string | undefined;
  readonly stdio: StdioOptions;
  /** Log stdout line by line (socket relays); false when stdout carries frames (pipes). */
  readonly logStdout: boolean;
  readonly logger: Logger;
  /** The clock of the window that groups output lines into records; default the real one. */
  readonly outputClock?: Clock | undefined;
  /** Called once, when the process has exited (its group already killed). */
  readonly onExit: (exit: ExitStatus) => void;
}

/** One spawned worker process. */
export class WorkerChild {
  /** OS pid; 0 when the spawn failed (see {@link WorkerChild.spawnError}). */
  readonly pid: number;
  /** The Node handle, for the relay source (its pipes). */
  readonly process: ChildProcess;

  readonly #log: Logger;
  readonly #onExit: (exit: ExitStatus) => void;
  readonly #stderr: OutputLines;
  #exit: ExitStatus | undefined;
  #spawnError: Promise<Error | undefined> | undefined;

  /**
   * Spawns the command, without a shell, in its own process group, as RoadRunner does (Setpgid):
   * a Ctrl-C reaches only the server, which stops workers in order; and a kill reaches the
   * worker's own children too.
   *
   * @throws the error of a spawn that failed at once (bad arguments, EAGAIN...). One that fails
   *   later (ENOENT, EACCES) gives pid 0 and {@link WorkerChild.spawnError}.
   */
  constructor(opts: WorkerChildOptions) {
    this.#log = opts.logger;
    this.#onExit = opts.onExit;
    const child = spawn(opts.command[0] as string, opts.command.slice(1), {
      cwd: opts.cwd,
      env: opts.env,
      stdio: opts.stdio,
      detached: true,
      windowsHide: true,
    });
    this.process = child;
    this.pid = child.pid ?? 0;
    if (this.pid === 0) {
      // spawn() reports ENOENT, EACCES... asynchronously, with no pid.
      this.#spawnError = new Promise((resolve) => child.once("error", resolve));
    }
    child.on("error", this.#onError);
    child.on("exit", this.#onProcessExit);
    const clock = opts.outputClock;
    this.#stderr = pipeRecords(child.stderr, clock, (text) => this.#logRecord("stderr", text));
    if (opts.logStdout) pipeRecords(child.stdout, clock, (text) => this.#logRecord("stdout", text));
  }

  /** Why the spawn failed, once known; undefined when it did not (the process has a pid). */
  spawnError(): Promise<Error | undefined> {
    return this.#spawnError ?? Promise.resolve(undefined);
  }

  /** How the process ended; undefined while it runs. */
  get exit(): ExitStatus | undefined {
    return this.#exit;
  }

  /** How the process ended (`exited with code 1`, `was killed by SIGKILL`), or `is running`. */
  get exitDescription(): string {
    return this.#exit === undefined ? "is running" : describeExit(this.#exit.code, this.#exit.signal);
  }

  /** Its last lines on stderr, oldest first. */
  lastOutput(): readonly string[] {
    return this.#stderr.tail();
  }

  /** SIGKILL to its whole process group (the process alone if that fails). No-op once it exited. */
  kill(): void {
    if (this.#exit !== undefined || this.pid === 0) return;
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      try {
        this.process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  /**
   * Resolves once the process that ended by itself has closed its stdio (its exit status and its
   * last words on stderr are known), or after `graceMs` (real time: it waits for the OS).
   */
  lastWords(graceMs: number): Promise<void> {
    const child = this.process;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      child.once("close", done);
      if (child.exitCode !== null || child.signalCode !== null) {
        if (child.stderr === null || child.stderr.readableEnded) done();
      }
    });
  }

  #logRecord(stream: "stderr" | "stdout", text: string): void {
    this.#log.info({ workerPid: this.pid, stream }, text);
  }

  readonly #onError = (err: Error): void => {
    // Without a pid, the error is the failed spawn: spawnError() reports it.
    if (this.pid !== 0) this.#log.warn({ workerPid: this.pid, err }, `worker pid ${this.pid}: ${err.message}`);
  };

  readonly #onProcessExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    this.#exit = { code, signal };
    // The worker's own children (its group; a shell's command, a forked helper) must not outlive
    // it. While a member lives the group id cannot be reused, so this reaches only them.
    // pid 0 (the spawn failed) must never get here: process.kill(-0) is our own group.
    if (this.pid > 0) {
      try {
        process.kill(-this.pid, "SIGKILL");
      } catch {
        // No one left in the group.
      }
    }
    if (this.#log.isLevelEnabled("debug")) {
      this.#log.debug({ workerPid: this.pid, code, signal }, `worker pid ${this.pid} ${describeExit(code, signal)}`);
    }
    this.#onExit(this.#exit);
  };
}

// Records of one output stream; its lines are kept for lastOutput(). A broken log pipe of a dying
// worker is not worth crashing the server for; its exit is reported.
function pipeRecords(
  stream: NodeJS.ReadableStream | null,
  clock: Clock | undefined,
  onRecord: (text: string) => void,
): OutputLines {
  const records = new OutputRecords(onRecord, clock === undefined ? {} : { clock });
  const lines = new OutputLines((line, complete) => records.line(line, complete));
  const ended = (): void => {
    lines.end();
    records.flush();
  };
  stream?.on("data", (chunk: Buffer) => lines.push(chunk));
  // "close" too: a stream that fails ends without "end". Both are safe to see twice.
  stream?.on("end", ended);
  stream?.on("close", ended);
  stream?.on("error", () => {});
  return lines;
}
