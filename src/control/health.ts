/**
 * RoadRunner's status plugin (`status.address`, and the same routes on `control.addr`):
 *
 *   GET /health[?plugin=tcp]   200 while at least one worker is active (ready or working)
 *   GET /ready[?plugin=tcp]    200 while at least one worker is ready (idle, can take an event now)
 *
 * These are the tcp plugin's Status() and Ready(). A failed check answers
 * `status.unavailable_status_code` (503 by default). The body is RoadRunner's report, one entry
 * per plugin asked for (all of them, here only "tcp", when none is):
 * `[{"plugin_name":"tcp","error_message":"","status_code":200}]`, where rr-tcp puts the reason
 * of a failure in `error_message`: "no worker is ready (0 of 2 workers: 2 starting)".
 *
 * Departing from RoadRunner (docs/behaviour.md#health-and-metrics): a plugin name rr-tcp does
 * not run answers 404 instead of being left out of a 200 answer, so a probe with a typo fails.
 * Once the service is stopping, as in RoadRunner, /ready answers the unavailable status and
 * /health stays 200, so an orchestrator stops sending clients without killing the draining process.
 */
import { WorkerStatus, workerStatusToJSON, type WorkerState } from "../../gen/ts/rr/tcp/v1/control.js";
import { PLUGIN, type ControlledPool } from "./control-target.js";
import { jsonReply, type HttpReply, type Route } from "./http-endpoint.js";

/** health: the tcp plugin's Status(); ready: its Ready(). */
export type Check = "health" | "ready";

export interface HealthOptions {
  /** The status of a failed check: `status.unavailable_status_code`. */
  readonly unavailableStatusCode: number;
  /** True once the service is stopping. */
  readonly stopping?: () => boolean;
}

/** One entry of RoadRunner's report (status plugin, api.go). */
export interface PluginReport {
  plugin_name: string;
  error_message: string;
  status_code: number;
}

/**
 * The states a live worker can be in, in lifecycle order, each with its name from the schema
 * (WORKER_STATUS_STARTING -> "starting"): how reasons and the rr_tcp_workers gauge list them.
 */
export const LIVE_STATUSES: ReadonlyArray<readonly [WorkerStatus, string]> = [
  WorkerStatus.STARTING,
  WorkerStatus.READY,
  WorkerStatus.WORKING,
  WorkerStatus.STOPPING,
].map((status) => [status, workerStatusToJSON(status).replace("WORKER_STATUS_", "").toLowerCase()] as const);

/** Why `check` fails for these workers, or undefined when it passes. */
export function workersProblem(check: Check, workers: readonly WorkerState[]): string | undefined {
  const counts = new Map<WorkerStatus, number>();
  for (const worker of workers) counts.set(worker.status, (counts.get(worker.status) ?? 0) + 1);
  const ready = counts.get(WorkerStatus.READY) ?? 0;
  const passing = check === "ready" ? ready : ready + (counts.get(WorkerStatus.WORKING) ?? 0);
  if (passing > 0) return undefined;
  const what = check === "ready" ? "no worker is ready" : "no worker is active (ready or working)";
  if (workers.length === 0) return `${what} (no workers)`;
  const listed = LIVE_STATUSES.filter(([status]) => counts.has(status)).map(
    ([status, name]) => `${counts.get(status)} ${name}`,
  );
  return `${what} (0 of ${workers.length} workers: ${listed.join(", ")})`;
}

/** GET /health and GET /ready. */
export function healthRoutes(pool: ControlledPool, options: HealthOptions): Route[] {
  return (["health", "ready"] as const).map((check) => ({
    method: "GET",
    path: `/${check}`,
    readsState: true,
    handle: ({ url }) => answer(check, url.searchParams.getAll("plugin"), pool, options),
  }));
}

function answer(check: Check, asked: string[], pool: ControlledPool, options: HealthOptions): HttpReply {
  const unavailable = options.unavailableStatusCode;
  // Stopping: alive (health) but taking nothing new (ready), as upstream.
  const stopping = options.stopping?.() === true;
  const problem = stopping
    ? check === "ready"
      ? "the service is shutting down"
      : undefined
    : workersProblem(check, pool.state().workers);
  const reports = (asked.length === 0 ? [PLUGIN] : asked).map((name): PluginReport => {
    if (name !== PLUGIN) {
      return { plugin_name: name, error_message: `no such plugin: rr-tcp runs only "${PLUGIN}"`, status_code: 404 };
    }
    return { plugin_name: name, error_message: problem ?? "", status_code: problem ? unavailable : 200 };
  });
  const status = reports.some((r) => r.status_code === 404) ? 404 : problem ? unavailable : 200;
  return jsonReply(status, reports);
}
