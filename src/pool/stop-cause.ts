/**
 * Why a worker left the pool, in one word a metric can count (`rr_tcp_worker_restarts_total{reason}`);
 * the log keeps the whole sentence (WorkerProcess.stopReason). Every stop, retire and kill names
 * one, so the count follows the pool's real causes instead of parsing its messages.
 */
export const STOP_CAUSES = [
  /** It exited, or was killed, without rr-tcp asking. */
  "exited",
  /** It did not complete its pid handshake (or could not be spawned). */
  "start_failed",
  /** It served max_jobs events. */
  "max_jobs",
  /** supervisor.ttl */
  "ttl",
  /** supervisor.idle_ttl */
  "idle_ttl",
  /** supervisor.max_worker_memory */
  "max_worker_memory",
  /** supervisor.exec_ttl: killed during an event. */
  "exec_ttl",
  /** It answered `{"stop":true}` instead of a reply. */
  "stop_requested",
  /** It broke the relay protocol: a bad frame, a frame it was not asked for, text on stdout. */
  "protocol_error",
  /** resetter.Reset, POST /reset. */
  "reset",
  /** One worker fewer (informer.RemoveWorker, a failed reset's new workers): not replaced. */
  "removed",
  /** Debug mode: one event per worker, by design. */
  "debug",
  /** The pool is being destroyed. */
  "shutdown",
] as const;
export type StopCause = (typeof STOP_CAUSES)[number];

/** Why a worker goes: the sentence for the log, and its cause in one word. */
export interface StopWhy {
  readonly reason: string;
  readonly cause: StopCause;
}

/** Whether a worker gone for `cause` counts as a restart: the pool replaces it, by design or not. */
export function countsAsRestart(cause: StopCause): boolean {
  return cause !== "removed" && cause !== "debug" && cause !== "shutdown";
}

/** The causes `rr_tcp_worker_restarts_total{reason}` counts. */
export const RESTART_CAUSES: readonly StopCause[] = STOP_CAUSES.filter(countsAsRestart);
