/**
 * Prometheus metrics for the control API, read from the pool and the server at scrape time
 * rather than counted on the hot path.
 */
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { WorkerStatus, workerStatusToJSON } from "../../gen/ts/rr/tcp/v1/control.js";
import type { ControlledPool, ControlledServer } from "./control-target.js";

export function createMetrics(pool: ControlledPool, server: ControlledServer): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "rr_tcp_process_" });

  new Gauge({
    name: "rr_tcp_workers",
    help: "Worker processes by status.",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      const counts = new Map<WorkerStatus, number>();
      for (const worker of pool.state().workers) counts.set(worker.status, (counts.get(worker.status) ?? 0) + 1);
      this.reset();
      for (const status of [WorkerStatus.STARTING, WorkerStatus.READY, WorkerStatus.WORKING, WorkerStatus.STOPPING]) {
        this.set(
          { status: workerStatusToJSON(status).replace("WORKER_STATUS_", "").toLowerCase() },
          counts.get(status) ?? 0,
        );
      }
    },
  });
  new Gauge({
    name: "rr_tcp_worker_rss_bytes",
    help: "Resident memory of each worker at the last supervisor reading.",
    labelNames: ["pid"],
    registers: [registry],
    collect() {
      this.reset();
      for (const worker of pool.state().workers) this.set({ pid: String(worker.pid) }, worker.rss_bytes);
    },
  });
  new Gauge({
    name: "rr_tcp_worker_execs",
    help: "Events each live worker has answered.",
    labelNames: ["pid"],
    registers: [registry],
    collect() {
      this.reset();
      for (const worker of pool.state().workers) this.set({ pid: String(worker.pid) }, worker.num_execs);
    },
  });
  new Gauge({
    name: "rr_tcp_events_queued",
    help: "Events waiting for an idle worker.",
    registers: [registry],
    collect() {
      this.set(pool.state().queued);
    },
  });
  new Gauge({
    name: "rr_tcp_connections_open",
    help: "Open client connections by server.",
    labelNames: ["server"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, open] of Object.entries(server.openConnections())) this.set({ server: name }, open);
    },
  });
  new Gauge({
    name: "rr_tcp_buffered_bytes",
    help: "Bytes all connections hold from their clients while waiting for the ends of messages (bounded by tcp.max_buffered_bytes).",
    registers: [registry],
    collect() {
      this.set(server.bufferedBytes());
    },
  });
  new Gauge({
    name: "rr_tcp_retained_bytes",
    help: "Memory those unfinished messages keep alive: the buffers they sit in, which can be larger than the bytes.",
    registers: [registry],
    collect() {
      this.set(server.retainedBytes());
    },
  });
  return registry;
}
