/**
 * The worker pool (docs/wire.md#pool-settings, docs/behaviour.md#workers): keeps `num_workers` worker processes
 * running, gives each event to one idle worker (longest idle first, or the preferred one for
 * sticky routing), waits up to allocate_timeout for one, and replaces workers that die, misbehave
 * or reach a limit. Knows nothing of sockets or TCP clients.
 *
 * The parts: {@link WorkerProcess} (one process and its state machine), {@link IdleWorkers},
 * {@link WaitQueue} (events waiting for a worker), {@link Supervisor} (soft limits),
 * {@link RespawnBackoff} (a command that keeps failing at start).
 */
import { pino, type Logger } from "pino";
import type { PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import { AfterNextPoll } from "./after-next-poll.js";
import { realClock, type Clock, type Timer } from "./clock.js";
import { PoolError } from "./errors.js";
import type { EventPool, ExecReply, ExecRequest } from "./exec.js";
import { IdleWorkers } from "./idle-workers.js";
import { PendingEvent } from "./pending-event.js";
import {
  maxJobsWithJitter,
  resolvePoolOptions,
  type PoolOptionsInput,
  type ResolvedPoolOptions,
} from "./pool-options.js";
import { readCpuSecondsSync } from "./process-cpu.js";
import { failedEarly, MAX_UNANSWERED_EVENTS, RespawnBackoff, type BackoffOptions } from "./respawn-backoff.js";
import { countsAsRestart, type StopCause, type StopWhy } from "./stop-cause.js";
import { Supervisor } from "./supervisor.js";
import { WaitQueue } from "./wait-queue.js";
import { formatCommand, workerEnv } from "./worker-env.js";
import { RERUN, WorkerProcess, type ExecOutcome, type WorkerListener } from "./worker-process.js";
import { openRelaySource, type WorkerRelaySource } from "./worker-relay.js";
import { isActive, WorkerStatus } from "./worker-state.js";

export type { EventPool, ExecReply, ExecRequest } from "./exec.js";
export { PoolError, type PoolErrorCode } from "./errors.js";
export type { StopCause } from "./stop-cause.js";

/** How to run the pool's workers. */
export interface WorkerPoolOptions {
  /** The generated PoolOptions; zero values get RoadRunner's defaults. */
  pool: PoolOptionsInput;
  /** The worker command, already split (no shell). */
  command: string[];
  /** Extra environment: RR_RPC when configured, then server.env (upper-cased, expanded). */
  env?: Record<string, string>;
  /** `pipes` (default), `tcp://host:port` (port 0: any free port) or `unix:///path.sock`. */
  relay?: string;
  logger?: Logger;
  /** Working directory of the workers; default the server's. */
  cwd?: string;
  /** Delays between attempts when workers keep failing at start; default 100 ms doubling to 30 s. */
  respawnBackoff?: BackoffOptions;
  /**
   * The time of every limit the pool enforces (backoff, allocate_timeout, watch_tick, ttl,
   * idle_ttl, exec_ttl, reset, destroy and stop timeouts); the real clock by default. Tests
   * pass one they move themselves.
   */
  clock?: Clock;
}

/** RoadRunner's cap on workers added at run time. */
const MAX_RUNTIME_WORKERS = 2048;
// RoadRunner waits 10 s for a worker to exit after the stop command (hard-coded there).
const STOP_TIMEOUT_CAP_MS = 10_000;
// Longest hold of a worker that does not echo event ids while it stays runnable after its reply.
// Holding a runnable worker costs little (it could not read its next event sooner), but a worker
// whose main thread keeps running after replying must not be kept from work for long. On a
// two-core machine with both cores busy, a worker waited for a CPU for more than 10 ms between
// its two writes.
const MAX_HOLD_MS = 100;
// Times an event may be handed to a worker that asks to stop instead of answering.
const MAX_RERUNS = 10;
// Without a supervisor, the pool state reads RSS when its last reading is older than this.
const RSS_MAX_AGE_MS = 1_000;

type PoolPhase = "starting" | "running" | "closing";

/**
 * A pool of worker processes speaking the goridge relay protocol: any program that does
 * (the TypeScript SDK, RoadRunner's PHP worker, a Python worker).
 */
export class WorkerPool implements EventPool {
  readonly #opts: ResolvedPoolOptions;
  readonly #command: string[];
  readonly #commandText: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #cwd: string | undefined;
  readonly #relaySource: WorkerRelaySource;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #stopTimeoutMs: number;
  readonly #workers = new Set<WorkerProcess>();
  readonly #idle = new IdleWorkers<WorkerProcess>();
  readonly #waiting = new WaitQueue<PendingEvent>();
  /** Armed while events wait: fires at the earliest allocate_timeout deadline. */
  #waitTimer: Timer | undefined;
  readonly #backoff: RespawnBackoff;
  readonly #supervisor: Supervisor<WorkerProcess> | undefined;
  #phase: PoolPhase = "starting";
  // Workers to keep running (num_workers, changed by addWorker/removeWorker).
  #target: number;
  // Events inside the pool, waiting or running (what max_queue_size limits): up in exec(),
  // down in #settle(), nowhere else.
  #inPool = 0;
  #respawnTimer: Timer | undefined;
  /** Workers gone while the pool ran, by cause (a plain Map: counted once per worker, read at scrape time). */
  readonly #restarts = new Map<StopCause, number>();
  #resetting: Promise<void> | undefined;
  #destroyed: Promise<void> | undefined;

  private constructor(
    opts: ResolvedPoolOptions,
    options: WorkerPoolOptions,
    relaySource: WorkerRelaySource,
    logger: Logger,
  ) {
    this.#opts = opts;
    this.#command = [...options.command];
    this.#commandText = formatCommand(options.command);
    this.#env = workerEnv(relaySource.address, options.env);
    this.#cwd = options.cwd;
    this.#relaySource = relaySource;
    this.#log = logger;
    this.#clock = options.clock ?? realClock;
    this.#stopTimeoutMs = Math.min(opts.destroyTimeoutMs, STOP_TIMEOUT_CAP_MS);
    this.#target = opts.numWorkers;
    this.#backoff = new RespawnBackoff(options.respawnBackoff, this.#clock);
    this.#supervisor = opts.supervisor
      ? new Supervisor(
          opts.supervisor,
          { supervisedWorkers: () => this.#workers, retire: (w, why, cause) => w.retire(why, cause) },
          logger,
          this.#clock,
        )
      : undefined;
  }

  /**
   * Starts `num_workers` workers in parallel and waits for their pid handshakes.
   *
   * @throws PoolError SPAWN_FAILED naming the command if any worker cannot start (every worker
   *   already started is killed first); BAD_OPTIONS for unusable options; the relay's
   *   RelayAddressError / RelayListenError for a bad or busy relay address.
   */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (options.command.length === 0 || options.command[0] === "") {
      throw new PoolError("BAD_OPTIONS", "the worker command is empty: set server.command or tcp.pool.command");
    }
    const opts = resolvePoolOptions(options.pool);
    const logger = (options.logger ?? pino({ enabled: false })).child({ component: "pool" });
    const relaySource = await openRelaySource(options.relay, {
      timeoutMs: opts.allocateTimeoutMs,
      maxFrameSize: opts.maxFrameSize,
      logger,
    });
    const pool = new WorkerPool(opts, options, relaySource, logger);
    try {
      await Promise.all(Array.from({ length: opts.numWorkers }, () => pool.#startWorker()));
    } catch (err) {
      await pool.destroy();
      throw err;
    }
    pool.#phase = "running";
    // A worker that died while the others were starting is replaced now.
    pool.#replenish();
    pool.#supervisor?.start();
    logger.info(
      { command: pool.#commandText, workers: opts.numWorkers, relay: relaySource.address },
      `worker pool started: ${opts.debug ? "debug mode, a worker per event" : `${opts.numWorkers} workers`}`,
    );
    return pool;
  }

  /**
   * Runs one event on one idle worker.
   *
   * @throws PoolError (rejects): NO_FREE_WORKERS, QUEUE_FULL, WORKER_DIED, WORKER_ERROR,
   *   BAD_FRAME, EXEC_TTL, SPAWN_FAILED (debug mode), POOL_CLOSED, RERUN_LIMIT.
   */
  exec(request: ExecRequest): Promise<ExecReply> {
    if (this.#phase !== "running") return Promise.reject(this.#closedError());
    const max = this.#opts.maxQueueSize;
    if (max > 0 && this.#inPool >= max) {
      return Promise.reject(
        new PoolError(
          "QUEUE_FULL",
          `max queue size reached: ${this.#inPool} events are in the pool (max_queue_size ${max})`,
        ),
      );
    }
    this.#inPool++;
    return new Promise<ExecReply>((resolve, reject) => {
      this.#dispatch(new PendingEvent(request, resolve, reject), false);
    });
  }

  /** Every live worker (pid, status, events served, RSS, age) and the number of waiting events. */
  state(): PoolState {
    const now = this.#clock.now();
    const rssMaxAge = this.#supervisor ? undefined : RSS_MAX_AGE_MS;
    const workers = [];
    for (const worker of this.#workers) {
      if (worker.pid > 0) workers.push(worker.snapshot(now, rssMaxAge));
    }
    return { workers, queued: this.#waiting.size };
  }

  /**
   * Workers that left the pool while it ran and were replaced, by cause: crashes, failed starts,
   * limits, resets. Workers removed on purpose (removeWorker, debug mode, the pool's own end) are
   * not counted.
   */
  restarts(): Partial<Record<StopCause, number>> {
    return Object.fromEntries(this.#restarts);
  }

  /**
   * The CPU a live worker used over its life, in percent of one core (100 = one core all the
   * time), as RoadRunner's informer reports it; 0 for an unknown pid or off Linux.
   */
  cpuPercent(pid: number): number {
    for (const worker of this.#workers) {
      if (worker.pid !== pid) continue;
      const seconds = (this.#clock.now() - worker.startedAt) / 1000;
      return seconds > 0 ? (100 * readCpuSecondsSync(pid)) / seconds : 0;
    }
    return 0;
  }

  /**
   * Replaces every worker without failing any event: starts `num_workers` new workers, then
   * stops the old ones, each after its current event. Old workers still busy after
   * reset_timeout are killed (their events fail with WORKER_DIED). Concurrent calls share one
   * reset.
   *
   * @throws PoolError SPAWN_FAILED if the new workers cannot start (the old ones then stay),
   *   POOL_CLOSED.
   */
  reset(): Promise<void> {
    if (this.#phase !== "running") return Promise.reject(this.#closedError());
    this.#resetting ??= this.#reset().finally(() => {
      this.#resetting = undefined;
    });
    return this.#resetting;
  }

  /**
   * Stops the pool: waiting events fail with POOL_CLOSED; busy workers finish their event; every
   * worker gets the stop command and its output is read until it exits; whatever is left after
   * destroy_timeout is killed (events still running then fail with POOL_CLOSED). Resolves when
   * no worker process is left. Idempotent.
   *
   * @param timeoutMs how long workers get before SIGKILL: destroy_timeout by default; a caller
   *   that already spent part of its shutdown budget passes what is left.
   */
  destroy(timeoutMs: number = this.#opts.destroyTimeoutMs): Promise<void> {
    this.#destroyed ??= this.#destroy(Math.max(0, timeoutMs));
    return this.#destroyed;
  }

  /**
   * Kills every worker that has an event now and fails those events at once with POOL_CLOSED;
   * while the pool runs, it replaces the workers. For a shutdown whose drain ran out: a hung
   * worker would otherwise hold its connection's CLOSE event until destroy_timeout, and the
   * connection's CLOSE can then go to another worker, or a fresh one, before destroy().
   *
   * @returns how many workers were killed
   */
  killBusyWorkers(reason: string): number {
    let killed = 0;
    for (const worker of [...this.#workers]) {
      if (worker.status !== WorkerStatus.WORKING) continue;
      const pid = worker.pid;
      worker.kill(
        reason,
        "shutdown",
        new PoolError("POOL_CLOSED", `worker pid ${pid} was killed during its event: ${reason}`, { pid }),
      );
      killed++;
    }
    return killed;
  }

  /** Starts one more worker and keeps it (up to 2048). No-op in debug mode. */
  async addWorker(): Promise<void> {
    if (this.#phase !== "running") throw this.#closedError();
    if (this.#opts.debug) return;
    if (this.#target >= MAX_RUNTIME_WORKERS) {
      throw new PoolError("BAD_OPTIONS", `number of workers can't be more than ${MAX_RUNTIME_WORKERS}`);
    }
    this.#target++;
    try {
      await this.#startWorker();
    } catch (err) {
      this.#target--;
      throw err;
    }
  }

  /** Keeps one worker fewer: an idle one is stopped now, else a busy one after its event. */
  async removeWorker(): Promise<void> {
    if (this.#phase !== "running") throw this.#closedError();
    if (this.#opts.debug || this.#target === 0) return;
    this.#target--;
    let victim = this.#idle.take();
    if (victim === undefined) {
      for (const worker of this.#workers) {
        if (isActive(worker.status) && worker.retireReason === undefined) {
          victim = worker;
          break;
        }
      }
    }
    if (victim === undefined) return;
    victim.retire("removed from the pool", "removed");
    await victim.exited;
  }

  // --- what workers report (WorkerListener) -------------------------------------------------

  // Bound once: every worker reports through this object.
  readonly #listener: WorkerListener = {
    workerStatusChanged: (worker, from, to) => this.#workerStatusChanged(worker, from, to),
    execDone: (worker, event, outcome) => this.#execDone(worker, event, outcome),
  };

  #workerStatusChanged(worker: WorkerProcess, from: WorkerStatus, to: WorkerStatus): void {
    if (to !== WorkerStatus.STOPPING && to !== WorkerStatus.STOPPED) return;
    this.#idle.delete(worker);
    if (to === WorkerStatus.STOPPED) this.#workers.delete(worker);
    if (this.#phase !== "running" || this.#opts.debug) return;
    if (to === WorkerStatus.STOPPED) this.#countRestart(worker);
    const diedByItself = worker.stopReason === undefined;
    // Dead, or killed for breaking the protocol (a PHP notice on stdout, say), before answering
    // anything: right after its handshake, or on its first events however long it idled first
    // (it cannot read them). As good as failing to start, so its replacement waits for the backoff.
    const early = failedEarly({
      endedByItself: diedByItself || worker.misbehaved,
      numExecs: worker.numExecs,
      numAnswers: worker.numAnswers,
      msSinceReady: this.#clock.now() - worker.readyAt,
    });
    if (to === WorkerStatus.STOPPING) {
      // Replaced at once when the pool asked it to go; otherwise wait for its exit to know
      // whether it failed at start.
      if (!diedByItself && !early && worker.readyAt > 0) this.#replenish();
      return;
    }
    if (from === WorkerStatus.STARTING || worker.failedToStart) {
      this.#startFailed(
        worker,
        worker.startError?.message ?? `worker pid ${worker.pid} ${worker.exitDescription} while starting`,
      );
    } else if (early) {
      const what = diedByItself ? worker.exitDescription : `was killed because ${worker.stopReason}`;
      const execs = worker.numExecs;
      const when =
        execs === 0
          ? "right after its pid handshake"
          : execs === 1
            ? "during its first event"
            : `within its first ${MAX_UNANSWERED_EVENTS} events, answering none`;
      this.#startFailed(worker, `worker command "${this.#commandText}" (pid ${worker.pid}) ${what} ${when}`);
    } else {
      if (diedByItself) {
        this.#log.warn(
          { workerPid: worker.pid, execs: worker.numExecs },
          `worker pid ${worker.pid} ${worker.exitDescription} unexpectedly; replacing it`,
        );
      }
      this.#replenish();
    }
  }

  #execDone(worker: WorkerProcess, event: PendingEvent, outcome: ExecOutcome): void {
    if (outcome === RERUN) {
      this.#rerun(event, worker);
    } else {
      if (!(outcome instanceof PoolError)) this.#backoff.success(worker.startedAt);
      this.#settle(event, outcome);
    }
    if (worker.status === WorkerStatus.WORKING) this.#free(worker);
  }

  // --- internals -----------------------------------------------------------------------------

  // The one place an event leaves the pool: the count of events in it drops, its caller hears.
  #settle(event: PendingEvent, outcome: ExecReply | PoolError): void {
    this.#inPool--;
    // A reply is a plain object; anything thrown is an Error.
    if (outcome instanceof Error) event.reject(outcome);
    else event.resolve(outcome);
  }

  #dispatch(event: PendingEvent, first: boolean): void {
    if (this.#opts.debug) {
      this.#runOnFreshWorker(event);
      return;
    }
    const preferPid = event.request.preferPid;
    const held = preferPid === undefined ? undefined : this.#held.get(preferPid)?.worker;
    if (held !== undefined) {
      // Sticky to a worker held after its reply: it takes the event the moment the hold ends.
      let waiting = this.#heldFor.get(held);
      if (waiting === undefined) this.#heldFor.set(held, (waiting = []));
      waiting.push(event);
      return;
    }
    const worker = this.#idle.take(preferPid);
    if (worker !== undefined) {
      worker.exec(event);
      return;
    }
    event.deadline = this.#clock.now() + this.#opts.allocateTimeoutMs;
    if (first) this.#waiting.unshift(event);
    else this.#waiting.push(event);
    // One timer for the whole queue, not one per waiting event: under load most events wait a
    // little, and a timer set and cleared per event costs more than the wait itself.
    this.#waitTimer ??= this.#clock.setTimeout(this.#onWaitTimeout, this.#opts.allocateTimeoutMs);
  }

  // Fails every event whose allocate_timeout ran out, then re-arms for the earliest left.
  readonly #onWaitTimeout = (): void => {
    this.#waitTimer = undefined;
    const now = this.#clock.now();
    let earliest = Infinity;
    for (const event of [...this.#waiting]) {
      if (event.deadline > now) {
        earliest = Math.min(earliest, event.deadline);
        continue;
      }
      this.#waiting.remove(event);
      let busy = 0;
      for (const worker of this.#workers) if (worker.status === WorkerStatus.WORKING) busy++;
      this.#settle(
        event,
        new PoolError(
          "NO_FREE_WORKERS",
          `no free workers in the pool: none became idle within allocate_timeout ${this.#opts.allocateTimeoutMs} ms ` +
            `(${busy} of ${this.#target} workers busy, ${this.#waiting.size} more events waiting)`,
          { timeoutMs: this.#opts.allocateTimeoutMs },
        ),
      );
    }
    if (earliest !== Infinity) this.#waitTimer = this.#clock.setTimeout(this.#onWaitTimeout, earliest - now);
  };

  // A worker asked to stop instead of answering: the event goes to another worker, first in line.
  #rerun(event: PendingEvent, worker: WorkerProcess): void {
    if (this.#phase !== "running") {
      this.#settle(event, this.#closedError());
    } else if (++event.reruns > MAX_RERUNS) {
      this.#settle(
        event,
        new PoolError(
          "RERUN_LIMIT",
          `the event was given to ${MAX_RERUNS + 1} workers and each asked to stop instead of answering (last: pid ${worker.pid})`,
          { pid: worker.pid },
        ),
      );
    } else {
      this.#dispatch(event, true);
    }
  }

  // A worker finished an event and is healthy: keep it, or replace it if a limit says so. One
  // that cannot say which event a reply answers is READY but held out of the idle list until
  // its relay has been read again: a frame it sends meanwhile kills it (WorkerProcess#onFrame).
  #free(worker: WorkerProcess): void {
    const due = this.#dueToStop(worker);
    if (due !== undefined) {
      const { reason, cause } = due;
      this.#log.debug({ workerPid: worker.pid, reason }, `stopping worker pid ${worker.pid}: ${reason}`);
      worker.stop(reason, cause, this.#phase === "closing" ? this.#opts.destroyTimeoutMs : this.#stopTimeoutMs);
      return;
    }
    worker.release();
    // One that echoes ids but has already sent more (a second reply right behind the first) is
    // held too: given the next event now, it would be killed for that frame while holding it, and
    // the event (a connection's CLOSE, never read) would fail. Held, it is killed holding nothing.
    const sentMore = worker.echoesEventId && worker.hasUnread;
    if (sentMore || (!worker.echoesEventId && !this.#opts.trustReplies)) {
      // A quick worker is back in its read by now, and a read of its relay finds nothing more:
      // it takes work at once. Else it is held.
      if (worker.settledAndRead) return this.#offer(worker);
      this.#held.set(worker.pid, { worker, since: performance.now(), settled: false });
      this.#settling.add(worker);
      return;
    }
    this.#offer(worker);
  }

  // The hold is over: the worker takes the first event routed to it meanwhile (sticky routing),
  // else the oldest waiting one; if it is gone (killed, stopped), those events go to any worker.
  readonly #settling = new AfterNextPoll<WorkerProcess>((worker) => {
    const hold = this.#held.get(worker.pid);
    // Not yet back in its wait for input: it may be between two writes. Held a turn more, up
    // to a bound, so a worker busy after its reply is not kept from work for long. Once seen
    // settled, it is held one poll more: what it wrote just before it settled (after the last
    // poll) is read then, while it has no event.
    if (
      hold !== undefined &&
      worker.status === WorkerStatus.READY &&
      performance.now() - hold.since < MAX_HOLD_MS &&
      !hold.settled
    ) {
      hold.settled = worker.settled;
      this.#settling.add(worker);
      return;
    }
    this.#held.delete(worker.pid);
    const waiting = this.#heldFor.get(worker) ?? [];
    this.#heldFor.delete(worker);
    const next = waiting.shift();
    if (
      next !== undefined &&
      worker.status === WorkerStatus.READY &&
      this.#phase === "running" &&
      worker.retirement === undefined
    ) {
      worker.exec(next);
    } else {
      this.#offer(worker);
      if (next !== undefined) this.#dispatch(next, true);
    }
    for (const event of waiting) this.#dispatch(event, true);
  });
  /** Workers held after a reply (see #free), by pid: since when, and whether seen settled. */
  readonly #held = new Map<number, { worker: WorkerProcess; since: number; settled: boolean }>();
  /** Events whose connection prefers a held worker, waiting for its hold to end. */
  readonly #heldFor = new Map<WorkerProcess, PendingEvent[]>();

  // Why a worker that just finished an event goes, if it does.
  #dueToStop(worker: WorkerProcess): StopWhy | undefined {
    if (this.#phase !== "running") return { reason: "the pool is closing", cause: "shutdown" };
    if (worker.retirement !== undefined) return worker.retirement;
    if (worker.execsExhausted) return { reason: `max_jobs reached (${worker.numExecs} events)`, cause: "max_jobs" };
    if (this.#opts.debug) return { reason: "debug mode: one event per worker", cause: "debug" };
    return undefined;
  }

  // Once per worker, when it is gone: the cause it was stopped for, or what it did by itself.
  #countRestart(worker: WorkerProcess): void {
    const cause = worker.stopCause ?? (worker.failedToStart ? "start_failed" : "exited");
    if (countsAsRestart(cause)) this.#restarts.set(cause, (this.#restarts.get(cause) ?? 0) + 1);
  }

  // A READY worker takes the oldest waiting event, or joins the idle list.
  #offer(worker: WorkerProcess): void {
    if (worker.status !== WorkerStatus.READY) return;
    if (this.#phase === "closing") {
      worker.stop("the pool is closing", "shutdown", this.#opts.destroyTimeoutMs);
      return;
    }
    const retirement = worker.retirement;
    if (retirement !== undefined) {
      worker.stop(retirement.reason, retirement.cause, this.#stopTimeoutMs);
      return;
    }
    const event = this.#waiting.shift();
    if (event === undefined) {
      this.#idle.push(worker);
      return;
    }
    worker.exec(event);
  }

  #spawn(): WorkerProcess {
    const worker = new WorkerProcess({
      command: this.#command,
      commandText: this.#commandText,
      env: this.#env,
      cwd: this.#cwd,
      relaySource: this.#relaySource,
      startTimeoutMs: this.#opts.allocateTimeoutMs,
      stopTimeoutMs: this.#stopTimeoutMs,
      execTtlMs: this.#opts.supervisor?.execTtlMs ?? 0,
      maxExecs: maxJobsWithJitter(this.#opts.maxJobs),
      clock: this.#clock,
      logger: this.#log,
      listener: this.#listener,
    });
    this.#workers.add(worker);
    return worker;
  }

  // Starts a worker that joins the pool once ready.
  async #startWorker(): Promise<WorkerProcess> {
    const worker = this.#spawn();
    await worker.start();
    this.#offer(worker);
    return worker;
  }

  // Debug mode: a fresh worker for this event, stopped after its reply (see #free).
  #runOnFreshWorker(event: PendingEvent): void {
    const worker = this.#spawn();
    worker.start().then(
      () => {
        if (worker.status !== WorkerStatus.READY) {
          this.#rerun(event, worker);
        } else if (this.#phase !== "running") {
          worker.stop("the pool is closing", "shutdown", this.#opts.destroyTimeoutMs);
          this.#settle(event, this.#closedError());
        } else {
          worker.exec(event);
        }
      },
      (err: PoolError) => {
        this.#settle(event, err);
      },
    );
  }

  // Starts workers until `#target` are running or starting (not while backing off).
  #replenish(): void {
    if (this.#phase !== "running" || this.#respawnTimer !== undefined) return;
    let active = 0;
    for (const worker of this.#workers) if (isActive(worker.status)) active++;
    for (; active < this.#target; active++) {
      this.#startWorker().catch(() => {
        // Reported by workerStatusChanged, which backs off before the next attempt.
      });
    }
  }

  #startFailed(worker: WorkerProcess, why: string): void {
    if (this.#respawnTimer !== undefined) return;
    const delay = this.#backoff.failure();
    const failures = this.#backoff.failures;
    this.#log.error(
      { command: this.#commandText, workerPid: worker.pid, failures, retryInMs: delay },
      `${why}; ${failures} failed start${failures === 1 ? "" : "s"} in a row, next attempt in ${delay} ms`,
    );
    this.#respawnTimer = this.#clock.setTimeout(() => {
      this.#respawnTimer = undefined;
      this.#replenish();
    }, delay);
  }

  async #reset(): Promise<void> {
    if (this.#opts.debug) return;
    const old = [...this.#workers].filter((w) => isActive(w.status));
    this.#log.info({ workers: this.#target }, "resetting the pool: starting new workers");
    const starts = Array.from({ length: this.#target }, () => this.#startWorker());
    const results = await Promise.allSettled(starts);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure !== undefined) {
      for (const r of results) if (r.status === "fulfilled") r.value.retire("the reset failed", "removed");
      throw failure.reason;
    }
    for (const worker of old) worker.retire("reset", "reset");
    // addWorker or removeWorker may have run meanwhile: keep exactly the target, not the
    // number of workers there were when the reset began.
    const kept = [...this.#workers].filter(
      (w) => isActive(w.status) && w.retireReason === undefined && !old.includes(w),
    );
    for (const worker of kept.slice(this.#target)) worker.retire("removed from the pool", "removed");
    const timer = this.#clock.setTimeout(() => {
      for (const worker of old) {
        if (worker.status !== WorkerStatus.STOPPED)
          worker.kill(`still running after reset_timeout ${this.#opts.resetTimeoutMs} ms`, "reset");
      }
    }, this.#opts.resetTimeoutMs);
    await Promise.all(old.map((w) => w.exited));
    timer.cancel();
  }

  async #destroy(timeoutMs: number): Promise<void> {
    this.#phase = "closing";
    this.#supervisor?.stop();
    this.#respawnTimer?.cancel();
    this.#respawnTimer = undefined;
    this.#waitTimer?.cancel();
    this.#waitTimer = undefined;
    for (const event of this.#waiting.drain()) {
      this.#settle(event, this.#closedError());
    }
    const workers = [...this.#workers];
    for (const worker of workers) {
      if (worker.status === WorkerStatus.READY) worker.stop("the pool is being destroyed", "shutdown", timeoutMs);
      else if (worker.status === WorkerStatus.STARTING) worker.kill("the pool is being destroyed", "shutdown");
      // A WORKING worker is stopped when its event ends (#free).
    }
    const timer = this.#clock.setTimeout(() => {
      for (const worker of this.#workers) {
        worker.kill(
          `destroy_timeout ${timeoutMs} ms reached`,
          "shutdown",
          new PoolError(
            "POOL_CLOSED",
            `the pool was destroyed: worker pid ${worker.pid} was killed after destroy_timeout ${timeoutMs} ms`,
            {
              pid: worker.pid,
              timeoutMs,
            },
          ),
        );
      }
    }, timeoutMs);
    // Workers spawned meanwhile (debug mode) are in #workers too: wait until it is empty.
    while (this.#workers.size > 0) await Promise.all([...this.#workers].map((w) => w.exited));
    timer.cancel();
    await this.#relaySource.close();
    this.#log.info({ command: this.#commandText }, "worker pool destroyed");
  }

  #closedError(): PoolError {
    return new PoolError("POOL_CLOSED", `the worker pool of "${this.#commandText}" is closed`, {
      command: this.#commandText,
    });
  }
}
