/**
 * Worker processes and their supervision: knows nothing of sockets or TCP clients.
 */
export { WorkerPool, type WorkerPoolOptions } from "./worker-pool.js";
export type { EventPool, ExecReply, ExecRequest } from "./exec.js";
export { PoolError, type PoolErrorCode, type PoolErrorFacts } from "./errors.js";
export { RESTART_CAUSES, STOP_CAUSES, type StopCause } from "./stop-cause.js";
export {
  resolvePoolOptions,
  maxJobsWithJitter,
  type PoolOptionsInput,
  type ResolvedPoolOptions,
  type SupervisorLimits,
} from "./pool-options.js";
export { RR_VERSION, RR_MODE, workerEnv } from "./worker-env.js";
export type { BackoffOptions } from "./respawn-backoff.js";
export { realClock, type Clock, type Timer, type TimerOptions } from "./clock.js";
