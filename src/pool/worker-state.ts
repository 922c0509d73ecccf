/**
 * The states of a worker (the generated WorkerStatus) and the moves allowed between them.
 *
 * ```
 * STARTING --handshake--> READY <--release-- WORKING
 *    |                      | \--exec-------->  |
 *    |                      v                   v
 *    +-----------------> STOPPING ----exit---> STOPPED
 *    +--(died, never started)------------------^  (any state may go straight to STOPPED on exit)
 * ```
 */
import { WorkerStatus, workerStatusToJSON } from "../../gen/ts/rr/tcp/v1/control.js";

export { WorkerStatus };

const ALLOWED: ReadonlyMap<WorkerStatus, readonly WorkerStatus[]> = new Map([
  [WorkerStatus.STARTING, [WorkerStatus.READY, WorkerStatus.STOPPING, WorkerStatus.STOPPED]],
  [WorkerStatus.READY, [WorkerStatus.WORKING, WorkerStatus.STOPPING, WorkerStatus.STOPPED]],
  [WorkerStatus.WORKING, [WorkerStatus.READY, WorkerStatus.STOPPING, WorkerStatus.STOPPED]],
  [WorkerStatus.STOPPING, [WorkerStatus.STOPPED]],
  [WorkerStatus.STOPPED, []],
]);

/** Whether a worker may move from `from` to `to`. */
export function canMove(from: WorkerStatus, to: WorkerStatus): boolean {
  return ALLOWED.get(from)?.includes(to) ?? false;
}

/** `READY` rather than `WORKER_STATUS_READY`, for logs. */
export function statusName(status: WorkerStatus): string {
  return workerStatusToJSON(status).replace(/^WORKER_STATUS_/, "");
}

/** True while the worker counts towards the pool's size (not on its way out). */
export function isActive(status: WorkerStatus): boolean {
  return status === WorkerStatus.STARTING || status === WorkerStatus.READY || status === WorkerStatus.WORKING;
}
