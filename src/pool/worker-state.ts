/**
 * A worker's states (phases) and the moves allowed between them: one table, checked by
 * {@link WorkerProcess}'s one transition function. The control API shows the coarser generated
 * WorkerStatus; each state maps to one.
 *
 * ```
 * starting --handshake--> ready --exec--> working --reply / send failed--> settled
 *    |                    ^  |               |                               |
 *    |                    |  |               |      release                  |
 *    |                    +--|---------------|-------------------------------+
 *    | stop, kill            | stop, kill    | kill, bad frame, relay lost   | stop, kill
 *    v                       v               v                               v
 * aborting --start ends--> stopping <--------+-------------------------------+
 *                            |
 *                            +--exited, relay closed--> stopped
 * starting --spawn failed--> stopped;   ready, working --died by itself--> stopped
 * ```
 *
 * - starting (STARTING): spawned, pid handshake in progress.
 * - ready (READY): idle, in the pool's idle list or about to be.
 * - working (WORKING): an event is with the worker.
 * - settled (WORKING): its event is done (answered, or could not be sent) and reported; the owner
 *   now releases it or stops it.
 * - aborting (STOPPING): stopped while starting; the start is still unwinding, and only then may
 *   the worker be reported STOPPED (with why it failed).
 * - stopping (STOPPING): the stop command was sent or it was killed; waiting for its exit and the
 *   last frames on its relay.
 * - stopped (STOPPED): the process is gone. Final.
 */
import { WorkerStatus, workerStatusToJSON } from "../../gen/ts/rr/tcp/v1/control.js";
import { RrTcpError } from "../errors.js";

export { WorkerStatus };

/** The states of a worker; see the module comment. */
export type WorkerPhase = "starting" | "ready" | "working" | "settled" | "aborting" | "stopping" | "stopped";

/** The moves allowed from each state. */
export const WORKER_TRANSITIONS: { readonly [From in WorkerPhase]: readonly WorkerPhase[] } = {
  starting: ["ready", "aborting", "stopped"],
  ready: ["working", "stopping", "stopped"],
  working: ["settled", "stopping", "stopped"],
  settled: ["ready", "stopping"],
  aborting: ["stopping"],
  stopping: ["stopped"],
  stopped: [],
};

/** The status the control API shows for each state. */
export const STATUS_OF: { readonly [S in WorkerPhase]: WorkerStatus } = {
  starting: WorkerStatus.STARTING,
  ready: WorkerStatus.READY,
  working: WorkerStatus.WORKING,
  settled: WorkerStatus.WORKING,
  aborting: WorkerStatus.STOPPING,
  stopping: WorkerStatus.STOPPING,
  stopped: WorkerStatus.STOPPED,
};

/** A move the table does not allow was attempted: a bug in rr-tcp, never the worker's doing. */
export class WorkerStateError extends RrTcpError<"ILLEGAL_TRANSITION"> {
  readonly from: WorkerPhase;
  readonly to: WorkerPhase;

  constructor(pid: number, from: WorkerPhase, to: WorkerPhase) {
    super("ILLEGAL_TRANSITION", `worker pid ${pid} cannot move from ${from} to ${to}`, { pid });
    this.from = from;
    this.to = to;
  }
}

/** Whether a worker may move from state `from` to state `to`. */
export function canTransition(from: WorkerPhase, to: WorkerPhase): boolean {
  return WORKER_TRANSITIONS[from].includes(to);
}

/** Whether a worker's status may change from `from` to `to` (another status) in one move. */
export function canMove(from: WorkerStatus, to: WorkerStatus): boolean {
  if (from === to) return false;
  for (const state of Object.keys(WORKER_TRANSITIONS) as WorkerPhase[]) {
    if (STATUS_OF[state] !== from) continue;
    if (WORKER_TRANSITIONS[state].some((next) => STATUS_OF[next] === to)) return true;
  }
  return false;
}

/** `READY` rather than `WORKER_STATUS_READY`, for logs. */
export function statusName(status: WorkerStatus): string {
  return workerStatusToJSON(status).replace(/^WORKER_STATUS_/, "");
}

/** True while the worker counts towards the pool's size (not on its way out). */
export function isActive(status: WorkerStatus): boolean {
  return status === WorkerStatus.STARTING || status === WorkerStatus.READY || status === WorkerStatus.WORKING;
}
