/**
 * One worker: its process ({@link WorkerChild}), its relay ({@link RelaySession}) and what it is
 * doing, as a state machine (worker-state.ts). The state changes in one place,
 * {@link WorkerProcess.#enter}, which checks the move against the table and tells the owner (the
 * pool) about every change of the status it shows. Nothing outside writes its fields: the owner
 * says what happened (`exec`, `release`, `retire`, `stop`, `kill`, `recordRss`) and reads facts.
 * What to do next (release, replace, re-run) is the owner's decision, not this class's.
 */
import type { Logger } from "pino";
import type { WorkerState } from "../../gen/ts/rr/tcp/v1/control.js";
import { errorMessage } from "../errors.js";
import { FrameError, type Frame } from "../goridge/index.js";
import { msToDuration } from "../protocol/duration.js";
import { HandshakeError, RelayClosedError } from "../relay/index.js";
import type { Clock, Timer } from "./clock.js";
import { describeExit, PoolError } from "./errors.js";
import type { ExecReply } from "./exec.js";
import type { PendingEvent } from "./pending-event.js";
import { readRssBytesSync } from "./process-memory.js";
import { ProcessRunState } from "./process-run-state.js";
import { readReply, RelaySession, type RelaySessionListener } from "./relay-session.js";
import { handshakeFailure, spawnFailure } from "./start-failure.js";
import type { StopCause, StopWhy } from "./stop-cause.js";
import { WorkerChild, type ExitStatus } from "./worker-child.js";
import type { WorkerRelaySource } from "./worker-relay.js";
import {
  canTransition,
  isActive,
  STATUS_OF,
  WorkerStateError,
  WorkerStatus,
  type WorkerPhase,
} from "./worker-state.js";

/** Outcome of an event that should go to another worker (a stop request, an unsendable relay). */
export const RERUN = Symbol("rerun");

/** How an event on a worker ended. */
export type ExecOutcome = ExecReply | PoolError | typeof RERUN;

/** The owner of workers (the pool): told about every status move and every finished event. */
export interface WorkerListener {
  /** Called after each change of the status the worker shows, from the one place that moves it. */
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
  /** The time of the start deadline, exec_ttl, the stop timeout and every timestamp. */
  clock: Clock;
  logger: Logger;
  listener: WorkerListener;
}

// After the process exits, how long its relay may still deliver what it wrote last. Real time:
// it waits for the operating system, not for a limit of the pool.
const EXIT_GRACE_MS = 1_000;

/** A worker process and its relay. Create, register with the owner, then `start()`. */
export class WorkerProcess {
  /** When it was spawned (ms since epoch, on the pool's clock). */
  readonly startedAt: number;
  /** Events after which it should be replaced; 0 = unlimited. */
  readonly maxExecs: number;
  /** Resolves once the process is gone and the status is STOPPED. */
  readonly exited: Promise<void>;

  readonly #opts: WorkerProcessOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #phase: WorkerPhase = "starting";
  #child: WorkerChild | undefined;
  #session: RelaySession | undefined;
  // Only for workers that do not echo event ids: read after their replies (see asleep).
  #runState: ProcessRunState | undefined;
  #abortStart: AbortController | undefined;
  /** The event with the worker: set in `working`, and in `stopping` while its outcome waits for the exit. */
  #current: PendingEvent | undefined;
  #execTimer: Timer | undefined;
  #stopTimer: Timer | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #resolveExited!: () => void;

  #readyAt = 0;
  #lastUsedAt = 0;
  #numExecs = 0;
  #numReplies = 0;
  #numAnswers = 0;
  #rssBytes = 0;
  #rssReadAt = 0;
  #retirement: StopWhy | undefined;
  #stopWhy: StopWhy | undefined;
  #misbehaved = false;
  #startError: PoolError | undefined;

  constructor(opts: WorkerProcessOptions) {
    this.#opts = opts;
    this.#clock = opts.clock;
    this.#log = opts.logger;
    this.maxExecs = opts.maxExecs;
    this.startedAt = opts.clock.now();
    this.exited = new Promise<void>((resolve) => {
      this.#resolveExited = resolve;
    });
  }

  // --- facts -----------------------------------------------------------------------------------

  /** The status the control API shows. */
  get status(): WorkerStatus {
    return STATUS_OF[this.#phase];
  }

  /** The state of the machine (finer than `status`). */
  get phase(): WorkerPhase {
    return this.#phase;
  }

  /** OS pid; 0 until spawned, and if it could not be. */
  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** When the handshake succeeded; 0 before. */
  get readyAt(): number {
    return this.#readyAt;
  }

  /** When its last event ended; 0 if it never served one. */
  get lastUsedAt(): number {
    return this.#lastUsedAt;
  }

  /**
   * False while the process may still be writing for its last event (see {@link ProcessRunState}).
   * For workers that echo event ids, and where it cannot be told, always true.
   */
  get settled(): boolean {
    return this.#runState?.settled ?? true;
  }

  /**
   * True when the worker is settled (see {@link settled}) and its relay holds nothing more: read
   * now, after the settled look, so whatever it wrote before it settled is in hand. Anything found
   * is taken as arrived (a stray frame then kills the worker) and the answer is false.
   */
  get settledAndRead(): boolean {
    const session = this.#session;
    if (session === undefined || !this.settled) return false;
    return !session.readWaiting() && !session.hasUnread;
  }

  /** Frames (or part of one) it sent that are not read yet. */
  get hasUnread(): boolean {
    return this.#session?.hasUnread ?? false;
  }

  /** True when it said in its pid reply that it echoes event ids (false until it did). */
  get echoesEventId(): boolean {
    return this.#session?.echoesEventId ?? false;
  }

  /** Events sent to it. */
  get numExecs(): number {
    return this.#numExecs;
  }

  /** Events it answered (a reply, an ERROR frame, a stop request, a bad frame). */
  get numReplies(): number {
    return this.#numReplies;
  }

  /** Events answered with a verb: replies that are neither ERROR frames nor stop requests. */
  get numAnswers(): number {
    return this.#numAnswers;
  }

  /** Resident memory at the last reading. */
  get rssBytes(): number {
    return this.#rssBytes;
  }

  /** When RSS was last read; 0 never. */
  get rssReadAt(): number {
    return this.#rssReadAt;
  }

  /** Why it is due to be replaced once free (a soft limit, a reset); undefined if it is not. */
  get retireReason(): string | undefined {
    return this.#retirement?.reason;
  }

  /** `retireReason` with its cause. */
  get retirement(): StopWhy | undefined {
    return this.#retirement;
  }

  /** Why the pool or the worker itself ended it; undefined while running or if it died on its own. */
  get stopReason(): string | undefined {
    return this.#stopWhy?.reason;
  }

  /** The cause of `stopReason`, in one word; undefined exactly when `stopReason` is. */
  get stopCause(): StopCause | undefined {
    return this.#stopWhy?.cause;
  }

  /** Killed for breaking the protocol (a bad or unasked-for frame), not stopped by the pool. */
  get misbehaved(): boolean {
    return this.#misbehaved;
  }

  /** Why the start failed, when it did. */
  get startError(): PoolError | undefined {
    return this.#startError;
  }

  /** True once `maxExecs` events were sent to it. */
  get execsExhausted(): boolean {
    return this.maxExecs > 0 && this.#numExecs >= this.maxExecs;
  }

  /** How the process ended (`exited with code 1`, `was killed by SIGKILL`), or `is running`. */
  get exitDescription(): string {
    const exit = this.#child?.exit;
    if (exit !== undefined) return describeExit(exit.code, exit.signal);
    // A process that never started has no exit status, but it is not running either.
    return this.#phase === "stopped" ? describeExit(null, null) : "is running";
  }

  /** True if it exited before completing the handshake on its own (not stopped by the owner). */
  get failedToStart(): boolean {
    return this.#startError !== undefined;
  }

  // --- what the owner says happened --------------------------------------------------------------

  /**
   * Spawns the process and does the pid handshake within startTimeoutMs (on the clock); READY on
   * success.
   *
   * @throws PoolError SPAWN_FAILED naming the command, the pid and how it ended (the worker is
   *   then STOPPED, or STOPPING until its process is reaped).
   */
  async start(): Promise<void> {
    const { command, relaySource } = this.#opts;
    let child: WorkerChild;
    try {
      child = new WorkerChild({
        command,
        env: this.#opts.env,
        cwd: this.#opts.cwd,
        stdio: relaySource.stdio,
        logStdout: !relaySource.usesStdout,
        logger: this.#log,
        onExit: this.#onExit,
      });
    } catch (err) {
      throw this.#failStart(err);
    }
    this.#child = child;
    if (child.pid === 0) throw this.#failStart(await child.spawnError());
    const pid = child.pid;
    const abort = new AbortController();
    this.#abortStart = abort;
    const timeoutMs = this.#opts.startTimeoutMs;
    const deadline = this.#clock.setTimeout(() => {
      abort.abort(
        new HandshakeError(`worker pid ${pid} did not complete the pid handshake within ${timeoutMs} ms`, {
          pid,
          timeoutMs,
        }),
      );
    }, timeoutMs);
    let session: RelaySession;
    try {
      session = await RelaySession.open(relaySource, child.process, pid, abort.signal);
    } catch (err) {
      deadline.cancel();
      this.#abortStart = undefined;
      throw await this.#failHandshake(err instanceof Error ? err : new Error(errorMessage(err)));
    }
    deadline.cancel();
    this.#abortStart = undefined;
    if (this.#phase === "aborting") {
      session.close();
      this.#enter("stopping");
      this.#finish();
      throw this.#stoppedWhileStarting();
    }
    this.#session = session;
    if (!session.echoesEventId) {
      this.#runState = new ProcessRunState(pid, { inputFd: this.#opts.relaySource.usesStdout ? 0 : undefined });
    }
    this.#readyAt = this.#clock.now();
    this.#enter("ready");
    session.start(this.#sessionListener);
  }

  /** Sends one event. The worker must be READY; `execDone` reports the outcome. */
  exec(event: PendingEvent): void {
    this.#enter("working");
    const session = this.#session as RelaySession;
    if (session.hasUnread) {
      // It already sent more than its last reply (a second reply, say). With no request ids in
      // the protocol, that frame would pass for this event's reply and give one client another's
      // bytes: the event goes to another worker, this one is replaced.
      this.#log.warn(
        { workerPid: this.pid },
        `worker pid ${this.pid} sent a frame it was not asked for (a second reply?); killing it`,
      );
      this.#misbehaved = true;
      this.kill("it sent a frame it was not asked for", "protocol_error");
      this.#opts.listener.execDone(this, event, RERUN);
      return;
    }
    this.#current = event;
    try {
      session.send(event.request);
      if (session.jsonFallbacks === 1) {
        this.#log.warn(
          { workerPid: this.pid, key: "tcp.context_codec" },
          `worker pid ${this.pid} did not say in its pid reply that it reads protobuf contexts ` +
            `(context_codecs: ["proto"]), so it gets RoadRunner's JSON context despite tcp.context_codec: proto`,
        );
      }
    } catch (err) {
      this.#current = undefined;
      if (err instanceof RelayClosedError) {
        // Died between being picked and being used: the event never reached it.
        this.kill("its relay closed", "exited");
        this.#opts.listener.execDone(this, event, RERUN);
      } else {
        this.#enter("settled");
        const message = `cannot send the event to worker pid ${this.pid}: ${errorMessage(err)}`;
        this.#opts.listener.execDone(
          this,
          event,
          new PoolError("BAD_FRAME", message, { pid: this.pid }, { cause: err }),
        );
      }
      return;
    }
    this.#numExecs++;
    if (this.#opts.execTtlMs > 0) this.#execTimer = this.#clock.setTimeout(this.#onExecTtl, this.#opts.execTtlMs);
    // After the send: the caller's wait for a worker ends here, the worker's time begins.
    event.request.onWorker?.();
  }

  /** Its event is done and it stays: WORKING -> READY. */
  release(): void {
    this.#enter("ready");
  }

  /**
   * Replace it once it is free: stopped now if idle, after its current event if busy, once ready
   * if starting (the owner reads `retireReason` then). The first reason given is kept.
   */
  retire(reason: string, cause: StopCause): void {
    switch (this.#phase) {
      case "ready":
        this.stop(reason, cause);
        return;
      case "starting":
      case "working":
      case "settled":
        this.#retireAfterEvent(reason, cause);
        return;
      default:
        return;
    }
  }

  /** Its RSS was read: `bytes` at `at` (ms since the epoch). */
  recordRss(bytes: number, at: number): void {
    this.#rssBytes = bytes;
    this.#rssReadAt = at;
  }

  /**
   * Graceful stop: the stop command, then keep reading its output until it exits; SIGKILL after
   * `timeoutMs` (on the clock). A busy worker is stopped after its current event; a starting one
   * is killed.
   */
  stop(reason: string, cause: StopCause, timeoutMs: number = this.#opts.stopTimeoutMs): void {
    switch (this.#phase) {
      case "aborting":
      case "stopping":
      case "stopped":
        return;
      case "starting":
        this.kill(reason, cause);
        return;
      case "working":
        this.#retireAfterEvent(reason, cause);
        return;
      case "ready":
      case "settled":
        break;
    }
    this.#stopped(reason, cause);
    this.#enter("stopping");
    try {
      (this.#session as RelaySession).sendStop();
    } catch {
      this.#child?.kill();
      return;
    }
    this.#stopTimer = this.#clock.setTimeout(this.#onStopTimeout, timeoutMs);
  }

  /**
   * SIGKILL (its whole process group). A current event fails with `error` now if given, else
   * with WORKER_DIED once the process is gone.
   */
  kill(reason: string, cause: StopCause, error?: PoolError): void {
    if (this.#phase === "stopped") return;
    this.#stopped(reason, cause);
    this.#child?.kill();
    this.#enterStopping();
    const event = this.#current;
    if (error !== undefined && event !== undefined) {
      this.#clearExecTimer();
      this.#current = undefined;
      this.#opts.listener.execDone(this, event, error);
    }
  }

  // The first reason (and its cause) stands: a later one would hide why it really went.
  #retireAfterEvent(reason: string, cause: StopCause): void {
    this.#retirement ??= { reason, cause };
  }

  #stopped(reason: string, cause: StopCause): void {
    this.#stopWhy ??= { reason, cause };
  }

  /** The worker as the control API shows it. RSS is read again when older than `rssMaxAgeMs`. */
  snapshot(now: number, rssMaxAgeMs?: number): WorkerState {
    if (rssMaxAgeMs !== undefined && now - this.#rssReadAt > rssMaxAgeMs && this.#child?.exit === undefined) {
      this.recordRss(readRssBytesSync(this.pid), now);
    }
    return {
      pid: this.pid,
      status: this.status,
      num_execs: this.#numExecs,
      rss_bytes: this.#rssBytes,
      age: msToDuration(now - this.startedAt),
    };
  }

  // --- the one transition function -------------------------------------------------------------

  /**
   * The one place the state changes: checked against the table; STOPPED releases everything; the
   * owner hears of every change of the shown status.
   *
   * @throws WorkerStateError ILLEGAL_TRANSITION for a move the table does not allow.
   */
  #enter(to: WorkerPhase): void {
    const from = this.#phase;
    if (!canTransition(from, to)) throw new WorkerStateError(this.pid, from, to);
    this.#phase = to;
    if (to === "stopped") {
      this.#clearExecTimer();
      this.#stopTimer?.cancel();
      clearTimeout(this.#graceTimer);
      this.#session?.close();
      this.#resolveExited();
    }
    const shownBefore = STATUS_OF[from];
    const shownNow = STATUS_OF[to];
    if (shownBefore !== shownNow) this.#opts.listener.workerStatusChanged(this, shownBefore, shownNow);
  }

  // On its way out: STOPPING (aborting while its start unwinds). No move if it already is.
  #enterStopping(): void {
    if (this.#phase === "starting") this.#enter("aborting");
    else if (isActive(this.status)) this.#enter("stopping");
  }

  // --- what the relay and the process report ----------------------------------------------------

  readonly #sessionListener: RelaySessionListener = {
    onFrame: (frame) => this.#onFrame(frame),
    onClosed: (err) => this.#onRelayClosed(err),
  };

  #onFrame(frame: Frame): void {
    switch (this.#phase) {
      case "working":
        if (this.#current !== undefined) {
          this.#onReply(this.#current, frame);
          return;
        }
        break;
      case "stopping":
        // What a worker sends after the stop command (the PHP worker: one CLOSE frame) is ignored.
        return;
      default:
        break;
    }
    this.#log.warn(
      { workerPid: this.pid, flags: frame.flags, bytes: frame.payload.length },
      `worker pid ${this.pid} sent a frame it was not asked for (while it had no event: a second reply?); killing it`,
    );
    this.#misbehaved = true;
    this.kill("it sent a frame it was not asked for", "protocol_error");
  }

  #onReply(event: PendingEvent, frame: Frame): void {
    this.#current = undefined;
    this.#clearExecTimer();
    this.#lastUsedAt = this.#clock.now();
    this.#numReplies++;
    this.#enter("settled");
    const reading = readReply(frame, this.pid, (this.#session as RelaySession).eventId);
    let outcome: ExecOutcome;
    switch (reading.kind) {
      case "reply":
        this.#numAnswers++;
        outcome = reading.reply;
        break;
      case "error":
        outcome = reading.error;
        break;
      case "stop":
        outcome = RERUN;
        this.stop('it asked to stop ({"stop":true})', "stop_requested");
        break;
      case "bad":
        outcome = this.#badFrame(reading.reason, reading.cause);
        break;
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
    this.#misbehaved = true;
    this.kill("it sent a bad frame", "protocol_error");
    return error;
  }

  #onRelayClosed(err: Error): void {
    if (err instanceof FrameError && isActive(this.status)) {
      const event = this.#current;
      const error = this.#badFrame(err.message, err);
      if (event !== undefined) {
        this.#current = undefined;
        this.#clearExecTimer();
        this.#opts.listener.execDone(this, event, error);
      } else {
        this.#log.warn({ workerPid: this.pid, err }, error.message);
      }
    } else if (this.#child?.exit === undefined && isActive(this.status)) {
      // The relay is gone but the process is not (yet): it cannot be used; make sure it ends.
      this.#child?.kill();
      this.#enterStopping();
    }
    this.#finish();
  }

  readonly #onExit = (exit: ExitStatus): void => {
    this.#stopTimer?.cancel();
    this.#abortStart?.abort(
      new RelayClosedError(`worker pid ${this.pid}`, `the process ${describeExit(exit.code, exit.signal)}`),
    );
    this.#finish();
  };

  // STOPPED once the process has exited and its relay delivered its last frames. Not while its
  // start unwinds: the start reports why it failed first.
  #finish(): void {
    const exit = this.#child?.exit;
    if (exit === undefined) return;
    if (this.#phase === "stopped" || this.#phase === "starting" || this.#phase === "aborting") return;
    const session = this.#session;
    if (session !== undefined && !session.closed) {
      this.#graceTimer ??= setTimeout(() => session.close(), EXIT_GRACE_MS);
      return;
    }
    const event = this.#current;
    this.#current = undefined;
    this.#runState?.close();
    this.#enter("stopped");
    if (event !== undefined) {
      const error = new PoolError(
        "WORKER_DIED",
        `worker pid ${this.pid} ${describeExit(exit.code, exit.signal)} during an event; it will be replaced`,
        { pid: this.pid, exitCode: exit.code, signal: exit.signal },
      );
      this.#opts.listener.execDone(this, event, error);
    }
  }

  readonly #onExecTtl = (): void => {
    this.#execTimer = undefined;
    const ms = this.#opts.execTtlMs;
    this.kill(
      `exec_ttl ${ms} ms exceeded`,
      "exec_ttl",
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
    this.#child?.kill();
  };

  #clearExecTimer(): void {
    this.#execTimer?.cancel();
    this.#execTimer = undefined;
  }

  // --- a start that failed ------------------------------------------------------------------------

  // The process never started: no pid, nothing to reap.
  #failStart(err: unknown): PoolError {
    const error = spawnFailure(
      this.#opts.command,
      this.#opts.commandText,
      err === undefined ? undefined : err instanceof Error ? err : new Error(errorMessage(err)),
    );
    this.#startError = error;
    this.#enter("stopped");
    return error;
  }

  // The process started but did not complete the handshake.
  async #failHandshake(err: Error): Promise<PoolError> {
    const child = this.#child as WorkerChild;
    if (this.#phase === "aborting") {
      // The owner stopped it while it was starting: not a failure of the command.
      this.#enter("stopping");
      this.#finish();
      return this.#stoppedWhileStarting();
    }
    // It ended by itself: wait (briefly) for its exit status and its last words on stderr.
    if (child.exit !== undefined || isRelayClosed(err)) await child.lastWords(EXIT_GRACE_MS);
    const exit = child.exit;
    this.kill("it failed the pid handshake", "start_failed");
    const error = handshakeFailure({
      commandText: this.#opts.commandText,
      pid: this.pid,
      timeoutMs: this.#opts.startTimeoutMs,
      cause: err,
      exit,
      lastOutput: child.lastOutput(),
    });
    this.#startError = error;
    this.#enter("stopping");
    this.#finish();
    return error;
  }

  #stoppedWhileStarting(): PoolError {
    return new PoolError("POOL_CLOSED", `worker pid ${this.pid} was stopped while starting (${this.stopReason})`, {
      pid: this.pid,
    });
  }
}

function isRelayClosed(err: Error): boolean {
  return err instanceof RelayClosedError || (err instanceof HandshakeError && err.cause instanceof RelayClosedError);
}
