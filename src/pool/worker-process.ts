/**
 * One worker process: spawns it, does the pid handshake, runs one event at a time on it, stops or
 * kills it, and reads its output until it exits. Its status (the generated WorkerStatus) changes
 * in one place, {@link WorkerProcess.#moveTo}, which tells the owner (the pool) about every move.
 * What to do next (release, replace, re-run) is the owner's decision, not this class's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "pino";
import type { WorkerState } from "../../gen/ts/rr/tcp/v1/control.js";
import {
  Byte10,
  encodeControlFrame,
  encodePayloadFrame,
  FrameError,
  FrameFlag,
  isStopRequest,
  splitPayload,
  writeFrameHeader,
  type Frame,
} from "../goridge/index.js";
import { HandshakeError, RelayClosedError, type Relay } from "../relay/index.js";
import { msToDuration } from "../protocol/duration.js";
import { describeExit, PoolError } from "./errors.js";
import type { ExecReply, ExecRequest } from "./exec.js";
import { OutputLines } from "./output-lines.js";
import type { PendingEvent } from "./pending-event.js";
import { readRssBytesSync } from "./process-memory.js";
import { handshakeFailure, quote, spawnFailure } from "./start-failure.js";
import type { WorkerRelaySource } from "./worker-relay.js";
import { canMove, isActive, statusName, WorkerStatus } from "./worker-state.js";

/** Outcome of an event that should go to another worker (a stop request, an unsendable relay). */
export const RERUN = Symbol("rerun");

/** How an event on a worker ended. */
export type ExecOutcome = ExecReply | PoolError | typeof RERUN;

/** The owner of workers (the pool): told about every status move and every finished event. */
export interface WorkerListener {
  /** Called after each status move, from the one place that moves it. */
  workerStatusChanged(worker: WorkerProcess, from: WorkerStatus, to: WorkerStatus): void;
  /**
   * The event given to `exec` is done. If the worker is still WORKING it is healthy and waits
   * for `release()` or `stop()`; otherwise it is already on its way out.
   */
  execDone(worker: WorkerProcess, event: PendingEvent, outcome: ExecOutcome): void;
}

/** Everything a worker needs to run. */
export interface WorkerProcessOptions {
  command: readonly string[];
  /** The command as one string, for messages. */
  commandText: string;
  env: NodeJS.ProcessEnv;
  cwd?: string | undefined;
  relaySource: WorkerRelaySource;
  /** Spawn + pid handshake deadline (allocate_timeout). */
  startTimeoutMs: number;
  /** SIGKILL after the stop command when the worker has not exited by then. */
  stopTimeoutMs: number;
  /** Per-event limit (supervisor.exec_ttl); 0 = none, and no timer is armed. */
  execTtlMs: number;
  /** Events before this worker should be replaced (jitter applied); 0 = unlimited. */
  maxExecs: number;
  logger: Logger;
  listener: WorkerListener;
}

// A body at least this large is written after its header instead of being copied into one frame.
const SPLIT_BODY_BYTES = 64 * 1024;
// After the process exits, how long its relay may still deliver what it wrote last.
const EXIT_GRACE_MS = 1_000;
const STOP_FRAME = encodeControlFrame({ stop: true });

/** A worker process and its relay. Create, register with the owner, then `start()`. */
export class WorkerProcess {
  /** OS pid; 0 until spawned, and if it could not be. */
  pid = 0;
  /** When it was spawned (ms since epoch). */
  readonly startedAt = Date.now();
  /** When the handshake succeeded; 0 before. */
  readyAt = 0;
  /** When its last event ended; 0 if it never served one. */
  lastUsedAt = 0;
  /** Events sent to it. */
  numExecs = 0;
  /** Events after which it should be replaced; 0 = unlimited. */
  readonly maxExecs: number;
  /** Resident memory at the last reading. */
  rssBytes = 0;
  rssReadAt = 0;
  /** A soft limit was reached while it was busy: replace it after the current event. */
  retireReason: string | undefined;
  /** Why the pool or the worker itself ended it; undefined while running or if it died on its own. */
  stopReason: string | undefined;
  /** Killed for breaking the protocol (a bad or unasked-for frame), not stopped by the pool. */
  misbehaved = false;
  /** Why the start failed, when it did. */
  startError: PoolError | undefined;
  /** Resolves once the process is gone and the status is STOPPED. */
  readonly exited: Promise<void>;

  readonly #opts: WorkerProcessOptions;
  readonly #log: Logger;
  #status = WorkerStatus.STARTING;
  #child: ChildProcess | undefined;
  #relay: Relay | undefined;
  #relayClosed = false;
  #starting = false;
  #abortStart: AbortController | undefined;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #spawnError: Error | undefined;
  #current: PendingEvent | undefined;
  #execTimer: NodeJS.Timeout | undefined;
  #stopTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #resolveExited!: () => void;
  #stderr: OutputLines;
  #stdout: OutputLines | undefined;

  constructor(opts: WorkerProcessOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.maxExecs = opts.maxExecs;
    this.exited = new Promise<void>((resolve) => {
      this.#resolveExited = resolve;
    });
    this.#stderr = new OutputLines((line) => this.#log.info({ workerPid: this.pid, stream: "stderr" }, line));
    if (!opts.relaySource.usesStdout) {
      this.#stdout = new OutputLines((line) => this.#log.info({ workerPid: this.pid, stream: "stdout" }, line));
    }
  }

  get status(): WorkerStatus {
    return this.#status;
  }

  /** True once `maxExecs` events were sent to it. */
  get execsExhausted(): boolean {
    return this.maxExecs > 0 && this.numExecs >= this.maxExecs;
  }

  /** How the process ended (`exited with code 1`, `was killed by SIGKILL`), or `is running`. */
  get exitDescription(): string {
    return this.#exit === undefined ? "is running" : describeExit(this.#exit.code, this.#exit.signal);
  }

  /** True if it exited before completing the handshake on its own (not stopped by the owner). */
  get failedToStart(): boolean {
    return this.startError !== undefined;
  }

  /**
   * Spawns the process and does the pid handshake within startTimeoutMs; READY on success.
   *
   * @throws PoolError SPAWN_FAILED naming the command, the pid and how it ended (the worker is
   *   then STOPPED, or STOPPING until its process is reaped).
   */
  async start(): Promise<void> {
    const { command, relaySource } = this.#opts;
    // While starting, the exit of the process is handled by the start's own failure path.
    this.#starting = true;
    let child: ChildProcess;
    try {
      child = spawn(command[0] as string, command.slice(1), {
        cwd: this.#opts.cwd,
        env: this.#opts.env,
        stdio: relaySource.stdio,
        // Its own process group, as RoadRunner does (Setpgid): a Ctrl-C reaches only the server,
        // which stops workers in order; and a kill reaches the worker's own children too.
        detached: true,
        windowsHide: true,
      });
    } catch (err) {
      throw this.#failStart(err as Error);
    }
    this.#child = child;
    child.on("error", this.#onChildError);
    child.on("exit", this.#onExit);
    child.stderr?.on("data", (chunk: Buffer) => this.#stderr.push(chunk));
    child.stderr?.on("end", () => this.#stderr.end());
    child.stderr?.on("error", ignoreStreamError);
    if (this.#stdout !== undefined) {
      const lines = this.#stdout;
      child.stdout?.on("data", (chunk: Buffer) => lines.push(chunk));
      child.stdout?.on("end", () => lines.end());
      child.stdout?.on("error", ignoreStreamError);
    }
    if (child.pid === undefined) {
      // spawn() reports ENOENT, EACCES... asynchronously, with no pid.
      await new Promise<void>((resolve) => child.once("error", () => resolve()));
      throw this.#failStart(this.#spawnError);
    }
    this.pid = child.pid;
    const abort = new AbortController();
    this.#abortStart = abort;
    let relay: Relay;
    try {
      relay = await relaySource.connect(child, this.pid, this.#opts.startTimeoutMs, abort.signal);
    } catch (err) {
      throw await this.#failHandshake(err as Error);
    } finally {
      this.#abortStart = undefined;
    }
    this.#starting = false;
    if (this.#status !== WorkerStatus.STARTING) {
      relay.close();
      this.#finish();
      throw this.#stoppedWhileStarting();
    }
    this.#relay = relay;
    this.readyAt = Date.now();
    this.#moveTo(WorkerStatus.READY);
    void this.#readLoop(relay);
  }

  /** Sends one event. The worker must be READY; `execDone` reports the outcome. */
  exec(event: PendingEvent): void {
    this.#moveTo(WorkerStatus.WORKING);
    if (this.#relay?.hasUnread) {
      // It already sent more than its last reply (a second reply, say). With no request ids in
      // the protocol, that frame would pass for this event's reply and give one client another's
      // bytes: the event goes to another worker, this one is replaced.
      this.#log.warn(
        { workerPid: this.pid },
        `worker pid ${this.pid} sent a frame it was not asked for (a second reply?); killing it`,
      );
      this.misbehaved = true;
      this.kill("it sent a frame it was not asked for");
      this.#opts.listener.execDone(this, event, RERUN);
      return;
    }
    this.#current = event;
    try {
      this.#send(event.request);
    } catch (err) {
      this.#current = undefined;
      if (err instanceof RelayClosedError) {
        // Died between being picked and being used: the event never reached it.
        this.kill("its relay closed");
        this.#opts.listener.execDone(this, event, RERUN);
      } else {
        const message = `cannot send the event to worker pid ${this.pid}: ${(err as Error).message}`;
        this.#opts.listener.execDone(
          this,
          event,
          new PoolError("BAD_FRAME", message, { pid: this.pid }, { cause: err }),
        );
      }
      return;
    }
    this.numExecs++;
    if (this.#opts.execTtlMs > 0) this.#execTimer = setTimeout(this.#onExecTtl, this.#opts.execTtlMs);
  }

  /** WORKING (event done) -> READY. */
  release(): void {
    this.#moveTo(WorkerStatus.READY);
  }

  /**
   * Graceful stop: the stop command, then keep reading its output until it exits; SIGKILL after
   * `timeoutMs`. A busy worker is stopped after its current event; a starting one is killed.
   */
  stop(reason: string, timeoutMs: number = this.#opts.stopTimeoutMs): void {
    switch (this.#status) {
      case WorkerStatus.STOPPING:
      case WorkerStatus.STOPPED:
        return;
      case WorkerStatus.STARTING:
        this.kill(reason);
        return;
      case WorkerStatus.WORKING:
        if (this.#current !== undefined) {
          this.retireReason ??= reason;
          return;
        }
        break;
      default:
        break;
    }
    this.stopReason ??= reason;
    this.#moveTo(WorkerStatus.STOPPING);
    try {
      (this.#relay as Relay).send(STOP_FRAME);
    } catch {
      this.#signalKill();
      return;
    }
    this.#stopTimer = setTimeout(this.#onStopTimeout, timeoutMs);
  }

  /**
   * SIGKILL (its whole process group). A current event fails with `error` now if given, else
   * with WORKER_DIED once the process is gone.
   */
  kill(reason: string, error?: PoolError): void {
    if (this.#status === WorkerStatus.STOPPED) return;
    this.stopReason ??= reason;
    this.#signalKill();
    if (isActive(this.#status)) this.#moveTo(WorkerStatus.STOPPING);
    const event = this.#current;
    if (error !== undefined && event !== undefined) {
      this.#clearExecTimer();
      this.#current = undefined;
      this.#opts.listener.execDone(this, event, error);
    }
  }

  /** The worker as the control API shows it. RSS is read again when older than `rssMaxAgeMs`. */
  snapshot(now: number, rssMaxAgeMs?: number): WorkerState {
    if (rssMaxAgeMs !== undefined && now - this.rssReadAt > rssMaxAgeMs && this.#exit === undefined) {
      this.rssBytes = readRssBytesSync(this.pid);
      this.rssReadAt = now;
    }
    return {
      pid: this.pid,
      status: this.#status,
      num_execs: this.numExecs,
      rss_bytes: this.rssBytes,
      age: msToDuration(now - this.startedAt),
    };
  }

  // The one place the status changes.
  #moveTo(to: WorkerStatus): void {
    const from = this.#status;
    if (from === to) return;
    if (!canMove(from, to)) {
      throw new Error(`worker pid ${this.pid} cannot move from ${statusName(from)} to ${statusName(to)}`);
    }
    this.#status = to;
    if (to === WorkerStatus.STOPPED) {
      this.#clearExecTimer();
      clearTimeout(this.#stopTimer);
      clearTimeout(this.#graceTimer);
      this.#relay?.close();
      this.#resolveExited();
    }
    this.#opts.listener.workerStatusChanged(this, from, to);
  }

  #send(request: ExecRequest): void {
    const relay = this.#relay as Relay;
    const { context, body, flags } = request;
    if (body.length < SPLIT_BODY_BYTES) {
      relay.send(encodePayloadFrame(context, body, flags));
      return;
    }
    // Header and context in one write (a PHP worker reads the header in one read), then the body
    // itself: no copy of a large body.
    const head = Buffer.allocUnsafe(16 + context.length);
    writeFrameHeader(head, flags, [context.length], context.length + body.length);
    head.set(context, 16);
    relay.send(head);
    relay.send(body);
  }

  async #readLoop(relay: Relay): Promise<void> {
    for (;;) {
      let frame: Frame;
      try {
        frame = await relay.receive();
      } catch (err) {
        this.#onRelayClosed(err as Error);
        return;
      }
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Frame): void {
    switch (this.#status) {
      case WorkerStatus.WORKING:
        if (this.#current !== undefined) {
          this.#onReply(this.#current, frame);
          return;
        }
        break;
      case WorkerStatus.STOPPING:
        // What a worker sends after the stop command (the PHP worker: one CLOSE frame) is ignored.
        return;
      default:
        break;
    }
    this.#log.warn(
      { workerPid: this.pid, flags: frame.flags, bytes: frame.payload.length },
      `worker pid ${this.pid} sent a frame while it had no event; killing it`,
    );
    this.misbehaved = true;
    this.kill("it sent a frame while it had no event");
  }

  #onReply(event: PendingEvent, frame: Frame): void {
    this.#current = undefined;
    this.#clearExecTimer();
    this.lastUsedAt = Date.now();
    let outcome: ExecOutcome;
    if ((frame.flags & FrameFlag.ERROR) !== 0) {
      const text = frame.payload.toString("utf8");
      outcome = new PoolError("WORKER_ERROR", `worker pid ${this.pid} answered with an error: ${quote(text)}`, {
        pid: this.pid,
        workerMessage: text,
      });
    } else if ((frame.byte10 & Byte10.STREAM) !== 0) {
      outcome = this.#badFrame("it set the STREAM bit (byte 10); streamed replies are not supported");
    } else {
      try {
        const { context, body } = splitPayload(frame);
        if (isStopRequest(context, body)) {
          outcome = RERUN;
          this.stop('it asked to stop ({"stop":true})');
        } else {
          outcome = { context, body, flags: frame.flags, pid: this.pid };
        }
      } catch (err) {
        outcome = this.#badFrame((err as Error).message, err);
      }
    }
    this.#opts.listener.execDone(this, event, outcome);
  }

  #badFrame(reason: string, cause?: unknown): PoolError {
    const error = new PoolError(
      "BAD_FRAME",
      `worker pid ${this.pid} sent a bad frame: ${reason}`,
      { pid: this.pid },
      { cause },
    );
    this.misbehaved = true;
    this.kill("it sent a bad frame");
    return error;
  }

  #onRelayClosed(err: Error): void {
    this.#relayClosed = true;
    if (err instanceof FrameError && isActive(this.#status)) {
      const event = this.#current;
      const error = this.#badFrame(err.message, err);
      if (event !== undefined) {
        this.#current = undefined;
        this.#clearExecTimer();
        this.#opts.listener.execDone(this, event, error);
      } else {
        this.#log.warn({ workerPid: this.pid, err }, error.message);
      }
    } else if (this.#exit === undefined && isActive(this.#status)) {
      // The relay is gone but the process is not (yet): it cannot be used; make sure it ends.
      this.#signalKill();
      this.#moveTo(WorkerStatus.STOPPING);
    }
    this.#finish();
  }

  readonly #onChildError = (err: Error): void => {
    if (this.pid === 0) this.#spawnError = err;
    else this.#log.warn({ workerPid: this.pid, err }, `worker pid ${this.pid}: ${err.message}`);
  };

  readonly #onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
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
    clearTimeout(this.#stopTimer);
    this.#abortStart?.abort(
      new RelayClosedError(`worker pid ${this.pid}`, `the process ${describeExit(code, signal)}`),
    );
    if (this.#log.isLevelEnabled("debug")) {
      this.#log.debug({ workerPid: this.pid, code, signal }, `worker pid ${this.pid} ${describeExit(code, signal)}`);
    }
    this.#finish();
  };

  // STOPPED once the process has exited and its relay delivered its last frames.
  #finish(): void {
    if (this.#status === WorkerStatus.STOPPED || this.#exit === undefined || this.#starting) return;
    if (this.#relay !== undefined && !this.#relayClosed) {
      this.#graceTimer ??= setTimeout(() => this.#relay?.close(), EXIT_GRACE_MS);
      return;
    }
    const event = this.#current;
    this.#current = undefined;
    this.#moveTo(WorkerStatus.STOPPED);
    if (event !== undefined) {
      const { code, signal } = this.#exit;
      const error = new PoolError(
        "WORKER_DIED",
        `worker pid ${this.pid} ${describeExit(code, signal)} during an event; it will be replaced`,
        { pid: this.pid, exitCode: code, signal },
      );
      this.#opts.listener.execDone(this, event, error);
    }
  }

  readonly #onExecTtl = (): void => {
    this.#execTimer = undefined;
    const ms = this.#opts.execTtlMs;
    this.kill(
      `exec_ttl ${ms} ms exceeded`,
      new PoolError(
        "EXEC_TTL",
        `worker pid ${this.pid} did not answer within exec_ttl ${ms} ms; it was killed and will be replaced`,
        { pid: this.pid, timeoutMs: ms },
      ),
    );
  };

  readonly #onStopTimeout = (): void => {
    this.#log.warn(
      { workerPid: this.pid, timeoutMs: this.#opts.stopTimeoutMs },
      `worker pid ${this.pid} did not exit after the stop command; killing it`,
    );
    this.#signalKill();
  };

  #clearExecTimer(): void {
    if (this.#execTimer !== undefined) {
      clearTimeout(this.#execTimer);
      this.#execTimer = undefined;
    }
  }

  #signalKill(): void {
    if (this.#exit !== undefined || this.pid === 0) return;
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      try {
        this.#child?.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  // The process never started: no pid, nothing to reap.
  #failStart(err: Error | undefined): PoolError {
    const error = spawnFailure(this.#opts.command, this.#opts.commandText, err);
    this.startError = error;
    this.#starting = false;
    this.#exit ??= { code: null, signal: null };
    this.#moveTo(WorkerStatus.STOPPED);
    return error;
  }

  // The process started but did not complete the handshake.
  async #failHandshake(err: Error): Promise<PoolError> {
    const child = this.#child as ChildProcess;
    if (this.#status !== WorkerStatus.STARTING) {
      // The owner stopped it while it was starting: not a failure of the command.
      this.#starting = false;
      this.#finish();
      return this.#stoppedWhileStarting();
    }
    const gone = this.#exit !== undefined || isRelayClosed(err);
    if (gone) {
      // It ended by itself: wait (briefly) for its exit status and its last words on stderr.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, EXIT_GRACE_MS);
        child.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.exitCode !== null || child.signalCode !== null) {
          if (child.stderr === null || child.stderr.readableEnded) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
    }
    const exit = this.#exit;
    this.kill("it failed the pid handshake");
    const error = handshakeFailure({
      commandText: this.#opts.commandText,
      pid: this.pid,
      timeoutMs: this.#opts.startTimeoutMs,
      cause: err,
      exit,
      lastOutput: this.#stderr.tail(),
    });
    this.startError = error;
    this.#starting = false;
    this.#finish();
    return error;
  }

  #stoppedWhileStarting(): PoolError {
    return new PoolError("POOL_CLOSED", `worker pid ${this.pid} was stopped while starting (${this.stopReason})`, {
      pid: this.pid,
    });
  }
}

// A broken log pipe of a dying worker is not worth crashing the server for; its exit is reported.
function ignoreStreamError(): void {}

function isRelayClosed(err: Error): boolean {
  return err instanceof RelayClosedError || (err instanceof HandshakeError && err.cause instanceof RelayClosedError);
}
