/**
 * The supervisor (docs/wire.md#supervisor-limits): every watch_tick, reads each worker's age, idle
 * time and RSS and asks
 * the pool to replace those past a soft limit (ttl, idle_ttl, max_worker_memory). An idle worker
 * is replaced at once, a busy one after its current event; that is the pool's business. The hard
 * limit, exec_ttl, is a per-event timer in the worker itself.
 */
import type { Logger } from "pino";
import { realClock, type Clock, type Timer } from "./clock.js";
import type { SupervisorLimits } from "./pool-options.js";
import { readRssBytes } from "./process-memory.js";
import type { StopCause } from "./stop-cause.js";
import { WorkerStatus } from "./worker-state.js";

/** What the limits are checked against: a worker's facts, read only. */
export interface WorkerFacts {
  readonly pid: number;
  readonly status: WorkerStatus;
  readonly startedAt: number;
  readonly lastUsedAt: number;
  /** Set once the worker is due to be replaced after its current event. */
  readonly retireReason: string | undefined;
  /** Resident memory at the last reading. */
  readonly rssBytes: number;
}

/** What the supervisor reads of a worker, and the one thing it tells it: its RSS. */
export interface SupervisedWorker extends WorkerFacts {
  /** The worker's RSS was read: `bytes` at `at` (ms since the epoch). */
  recordRss(bytes: number, at: number): void;
}

/** What the supervisor needs of the pool. */
export interface SupervisedPool<W extends SupervisedWorker> {
  /** The workers to check (those that are running). */
  supervisedWorkers(): Iterable<W>;
  /** Replace `worker` (soft): now if idle, after its current event if busy. */
  retire(worker: W, reason: string, cause: StopCause): void;
}

/** A soft limit a worker is past: which one (its key), and a sentence for the log. */
export interface ExceededLimit {
  readonly cause: "ttl" | "idle_ttl" | "max_worker_memory";
  readonly reason: string;
}

/**
 * The soft limit `worker` is past, or undefined.
 * idle_ttl only counts for an idle worker that served at least one event.
 */
export function exceededLimit(worker: WorkerFacts, limits: SupervisorLimits, now: number): ExceededLimit | undefined {
  if (limits.ttlMs > 0 && now - worker.startedAt >= limits.ttlMs) {
    return { cause: "ttl", reason: `ttl ${limits.ttlMs} ms reached (age ${now - worker.startedAt} ms)` };
  }
  if (
    limits.idleTtlMs > 0 &&
    worker.status === WorkerStatus.READY &&
    worker.lastUsedAt > 0 &&
    now - worker.lastUsedAt >= limits.idleTtlMs
  ) {
    return {
      cause: "idle_ttl",
      reason: `idle_ttl ${limits.idleTtlMs} ms reached (idle ${now - worker.lastUsedAt} ms)`,
    };
  }
  if (limits.maxWorkerMemoryBytes > 0 && worker.rssBytes > limits.maxWorkerMemoryBytes) {
    const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
    return {
      cause: "max_worker_memory",
      reason: `max_worker_memory ${mb(limits.maxWorkerMemoryBytes)} MB exceeded (RSS ${mb(worker.rssBytes)} MB)`,
    };
  }
  return undefined;
}

/** Checks the pool's workers every watch_tick. */
export class Supervisor<W extends SupervisedWorker> {
  readonly #limits: SupervisorLimits;
  readonly #pool: SupervisedPool<W>;
  readonly #log: Logger;
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #ticking = false;

  constructor(limits: SupervisorLimits, pool: SupervisedPool<W>, logger: Logger, clock: Clock = realClock) {
    this.#limits = limits;
    this.#pool = pool;
    this.#log = logger;
    this.#clock = clock;
  }

  /** Checks every watch_tick from now on, until `stop()`. */
  start(): void {
    if (this.#timer === undefined) this.#arm();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  // One tick per watch_tick, whatever a tick takes (a slow one is skipped over, not overlapped).
  #arm(): void {
    // The pool's child processes keep the process alive, not this timer.
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#arm();
        void this.tick();
      },
      this.#limits.watchTickMs,
      { unref: true },
    );
  }

  /** One round of checks; a round still running when the next tick comes is not overlapped. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const workers = [...this.#pool.supervisedWorkers()];
      // RSS is read for every worker so the pool state shows it, whether limited or not.
      const rss = await Promise.all(workers.map((w) => readRssBytes(w.pid)));
      const now = this.#clock.now();
      workers.forEach((worker, i) => {
        worker.recordRss(rss[i] as number, now);
        const exceeded = exceededLimit(worker, this.#limits, now);
        if (exceeded === undefined) return;
        if (worker.status !== WorkerStatus.READY && worker.status !== WorkerStatus.WORKING) return;
        if (worker.retireReason !== undefined) return;
        const { reason, cause } = exceeded;
        this.#log.info({ workerPid: worker.pid, reason }, `worker pid ${worker.pid}: ${reason}; replacing it`);
        this.#pool.retire(worker, reason, cause);
      });
    } catch (err) {
      this.#log.error({ err }, `supervisor tick failed: ${(err as Error).message}`);
    } finally {
      this.#ticking = false;
    }
  }
}
