/**
 * The pool's options in milliseconds and counts, with RoadRunner's defaults applied to zero
 * values (docs/wire.md#pool-settings), from the generated PoolOptions / SupervisorOptions.
 */
import { LIMITS } from "../limits.js";
import { defaultMs } from "../options/index.js";
import { availableParallelism } from "node:os";
import type { PoolOptions, SupervisorOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { durationToMs } from "../protocol/duration.js";
import { PoolError } from "./errors.js";

/** The generated PoolOptions, every field optional (zero values get the defaults). */
export type PoolOptionsInput = Partial<Omit<PoolOptions, "supervisor">> & {
  supervisor?: Partial<SupervisorOptions> | undefined;
};

/** Supervisor limits; 0 means no limit. */
export interface SupervisorLimits {
  watchTickMs: number;
  ttlMs: number;
  idleTtlMs: number;
  maxWorkerMemoryBytes: number;
  execTtlMs: number;
}

/** Pool options ready to use. */
export interface ResolvedPoolOptions {
  /** Workers kept running; 0 in debug mode. */
  numWorkers: number;
  /** Events per worker before it is replaced (jitter not applied here); 0 = unlimited. */
  maxJobs: number;
  /** Events allowed in the pool at once; 0 = unlimited. */
  maxQueueSize: number;
  allocateTimeoutMs: number;
  destroyTimeoutMs: number;
  resetTimeoutMs: number;
  debug: boolean;
  /** Largest payload a worker's frame may carry (tcp.pool.max_frame_size), bytes. */
  maxFrameSize: number;
  /** tcp.pool.trust_replies: no hold after the replies of workers that do not echo event ids. */
  trustReplies: boolean;
  /** Absent: no supervision (exec_ttl is then 0 too). */
  supervisor: SupervisorLimits | undefined;
}

/** RoadRunner's limit on num_workers (the schema's range of tcp.pool.num_workers). */
export const MAX_WORKERS = LIMITS.configuredWorkers.value;
const MB = 1024 * 1024;
// RoadRunner adds 0..14 % to max_jobs per worker (pool worker/options.go, a 15 % window), so
// workers started together are not all replaced at once.
const MAX_JOBS_JITTER_PERCENT = 15;

/**
 * Applies RoadRunner's defaults (the schema's, src/options): num_workers 0 = number of CPUs, a
 * timeout or watch_tick of 0 = its default; debug forces num_workers 0, max_jobs 1 and
 * max_queue_size 0.
 *
 * @throws PoolError BAD_OPTIONS for more than 500 workers or a negative count.
 */
export function resolvePoolOptions(pool: PoolOptionsInput = {}): ResolvedPoolOptions {
  const debug = pool.debug === true;
  for (const key of ["num_workers", "max_jobs", "max_queue_size"] as const) {
    const value = pool[key] ?? 0;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new PoolError("BAD_OPTIONS", `pool.${key} must be a whole number >= 0, got ${value}`);
    }
  }
  const numWorkers = debug ? 0 : pool.num_workers || availableParallelism();
  if (numWorkers > MAX_WORKERS) {
    throw new PoolError(
      "BAD_OPTIONS",
      `number of workers can't be more than ${MAX_WORKERS}: pool.num_workers is ${numWorkers}`,
    );
  }
  return {
    numWorkers,
    maxJobs: debug ? 1 : (pool.max_jobs ?? 0),
    maxQueueSize: debug ? 0 : (pool.max_queue_size ?? 0),
    allocateTimeoutMs: durationToMs(pool.allocate_timeout) || defaultMs("PoolOptions", "allocate_timeout"),
    destroyTimeoutMs: durationToMs(pool.destroy_timeout) || defaultMs("PoolOptions", "destroy_timeout"),
    resetTimeoutMs: durationToMs(pool.reset_timeout) || defaultMs("PoolOptions", "reset_timeout"),
    debug,
    maxFrameSize: pool.max_frame_size || LIMITS.framePayload.value,
    trustReplies: pool.trust_replies === true,
    supervisor: pool.supervisor ? resolveSupervisor(pool.supervisor) : undefined,
  };
}

function resolveSupervisor(s: Partial<SupervisorOptions>): SupervisorLimits {
  return {
    watchTickMs: durationToMs(s.watch_tick) || defaultMs("SupervisorOptions", "watch_tick"),
    ttlMs: durationToMs(s.ttl),
    idleTtlMs: durationToMs(s.idle_ttl),
    maxWorkerMemoryBytes: (s.max_worker_memory ?? 0) * MB,
    execTtlMs: durationToMs(s.exec_ttl),
  };
}

/**
 * One worker's exec limit: `maxJobs` plus a random 0..14 % of it, rounded down, as RoadRunner
 * computes it. 0 stays 0 (unlimited).
 *
 * @param random a number in [0, 1), for tests.
 */
export function maxJobsWithJitter(maxJobs: number, random: number = Math.random()): number {
  if (maxJobs <= 0) return 0;
  const percent = Math.floor(random * MAX_JOBS_JITTER_PERCENT);
  return maxJobs + Math.floor((maxJobs * percent) / 100);
}
