/**
 * rr-tcp's worker statuses as RoadRunner numbers and names them (its pool's `fsm/state.go`), for
 * informer.Workers and the `rr_tcp_worker_state` metric, so tools written for RoadRunner read them.
 */
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";

/** RoadRunner's state: its number and its name. */
export interface RoadRunnerState {
  readonly code: number;
  readonly name: string;
}

// A starting worker is RoadRunner's "inactive": created, not yet ready.
const STATES: Record<WorkerStatus, RoadRunnerState> = {
  [WorkerStatus.UNSPECIFIED]: { code: 0, name: "inactive" },
  [WorkerStatus.STARTING]: { code: 0, name: "inactive" },
  [WorkerStatus.READY]: { code: 1, name: "ready" },
  [WorkerStatus.WORKING]: { code: 2, name: "working" },
  [WorkerStatus.STOPPING]: { code: 4, name: "stopping" },
  [WorkerStatus.STOPPED]: { code: 5, name: "stopped" },
  [WorkerStatus.UNRECOGNIZED]: { code: 0, name: "inactive" },
};

export function roadRunnerState(status: WorkerStatus): RoadRunnerState {
  return STATES[status];
}
