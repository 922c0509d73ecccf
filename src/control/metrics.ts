/**
 * Prometheus metrics (`GET /metrics` on `metrics.address` and on `control.addr`). The pool and
 * the servers count in plain integer fields as they work; the gauges and counters here read those
 * at scrape time (collect()), so a scrape costs the hot path nothing. Only the two histograms
 * observe per event, through the server's observer (EventHistograms).
 *
 * Names follow Prometheus' conventions (base units, `_total` counters) and, where RoadRunner's
 * plugins export a pool metric, its name with the `rr_tcp` namespace (the http and jobs plugins'
 * `rr_http_total_workers`, `rr_http_worker_state`...; the http_metrics middleware's
 * `rr_http_requests_queue`):
 *
 *   rr_tcp_total_workers, rr_tcp_workers_memory_bytes, rr_tcp_worker_memory_bytes{pid},
 *   rr_tcp_worker_state{state,pid}, rr_tcp_workers_ready, rr_tcp_workers_working,
 *   rr_tcp_workers_invalid, rr_tcp_requests_queue                              (RoadRunner's)
 *   rr_tcp_workers{state}, rr_tcp_worker_execs{pid}, rr_tcp_worker_restarts_total{reason}
 *   rr_tcp_connections_total{server}, rr_tcp_connections_rejected_total{server},
 *   rr_tcp_connections_closed_total{server,reason}, rr_tcp_connections_open{server},
 *   rr_tcp_proxy_headers_refused_total{server,problem}, rr_tcp_tls_handshake_failures_total{server},
 *   rr_tcp_events_total{server,event}, rr_tcp_replies_total{server,verb},
 *   rr_tcp_bytes_received_total{server}, rr_tcp_bytes_sent_total{server},
 *   rr_tcp_pushes_total{server,outcome}, rr_tcp_bytes_pushed_total{server},
 *   rr_tcp_buffered_bytes, rr_tcp_retained_bytes
 *   rr_tcp_event_queue_seconds{server}, rr_tcp_event_worker_seconds{server}   (histograms)
 *   rr_tcp_process_cpu_seconds_total, rr_tcp_nodejs_heap_size_used_bytes...  (Node's defaults)
 *
 * With tcp.processes above 1, the primary sums its processes' registries and adds its own
 * (service/process-group.ts): rr_tcp_server_processes, rr_tcp_server_process_restarts_total.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { WorkerStatus, type PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import { PROXY_HEADER_PROBLEMS } from "../net/index.js";
import { RESTART_CAUSES } from "../pool/index.js";
import {
  CLOSE_REASONS,
  EVENT_KINDS,
  PUSH_OUTCOMES,
  REPLY_KINDS,
  type EventTimings,
  type ServerCounters,
  type ServerObserver,
} from "../server/index.js";
import type { ControlledPool, ControlledServer } from "./control-target.js";
import { LIVE_STATUSES } from "./health.js";
import { textReply, type Route } from "./http-endpoint.js";
import { roadRunnerState } from "./roadrunner-state.js";

/**
 * Seconds, for both histograms: an event takes tens of microseconds on an idle pool, and may wait
 * up to allocate_timeout (60 s by default) for a worker.
 */
export const EVENT_SECONDS_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/**
 * The two histograms of event times, per server: what the TcpServer's observer is. Made before the
 * server (which asks it for each named server's sink once) and registered with the metrics after.
 */
export class EventHistograms implements ServerObserver {
  readonly queue = new Histogram({
    name: "rr_tcp_event_queue_seconds",
    help: "Time an event waited for a worker: from being given to the pool to being sent to a worker.",
    labelNames: ["server"],
    buckets: [...EVENT_SECONDS_BUCKETS],
    registers: [],
  });
  readonly worker = new Histogram({
    name: "rr_tcp_event_worker_seconds",
    help: "Time a worker had an event: from being sent to it to its reply (or failure).",
    labelNames: ["server"],
    buckets: [...EVENT_SECONDS_BUCKETS],
    registers: [],
  });

  eventTimings(server: string): EventTimings {
    // The children of one label value: the label is hashed once here, not per event.
    const queue = this.queue.labels(server);
    const worker = this.worker.labels(server);
    // Zero series from the start, so rate() sees a server before its first event.
    this.queue.zero({ server });
    this.worker.zero({ server });
    return {
      observe(queueSeconds, workerSeconds) {
        queue.observe(queueSeconds);
        if (workerSeconds !== undefined) worker.observe(workerSeconds);
      },
    };
  }
}

/** Label values as the series have them (byLabel lower-cases the close reasons), for a help text. */
const labels = (values: readonly string[]): string => values.map((v) => v.toLowerCase()).join(", ");

/** The registry of every metric of the pool and the servers (and of Node's process). */
export function createMetrics(
  pool: ControlledPool,
  server: ControlledServer,
  histograms: EventHistograms = new EventHistograms(),
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "rr_tcp_" });
  registry.registerMetric(histograms.queue);
  registry.registerMetric(histograms.worker);
  const workers = perScrape(() => pool.state());
  const counters = perScrape(() => server.counters());
  poolMetrics(registry, workers, pool);
  serverMetrics(registry, counters, server);
  return registry;
}

/** What /metrics reads: a Registry, or the primary's sum of its server processes' (tcp.processes). */
export type MetricsSource = Pick<Registry, "metrics" | "contentType">;

/** GET /metrics, in Prometheus' text format. */
export function metricsRoutes(registry: MetricsSource): Route[] {
  return [
    {
      method: "GET",
      path: "/metrics",
      handle: async () => ({ ...textReply(200, await registry.metrics()), type: registry.contentType }),
    },
  ];
}

/**
 * One reading per scrape: prom-client runs every metric's collect() in one synchronous pass before
 * it awaits anything, so a reading taken in this pass serves all of them, and the next scrape,
 * a microtask later or more, reads again.
 */
function perScrape<T>(read: () => T): () => T {
  let reading: { value: T } | undefined;
  return () => {
    if (reading === undefined) {
      reading = { value: read() };
      queueMicrotask(() => (reading = undefined));
    }
    return reading.value;
  };
}

function poolMetrics(registry: Registry, workers: () => PoolState, pool: ControlledPool): void {
  const registers = [registry];
  const pidGauge = (name: string, help: string, value: (w: PoolState["workers"][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["pid"],
      registers,
      collect() {
        this.reset();
        for (const worker of workers().workers) this.set({ pid: String(worker.pid) }, value(worker));
      },
    });
  const countGauge = (name: string, help: string, count: (state: PoolState) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(count(workers()));
      },
    });
  const withStatus = (state: PoolState, ...statuses: WorkerStatus[]) =>
    state.workers.filter((w) => statuses.includes(w.status)).length;

  countGauge("rr_tcp_total_workers", "Worker processes of the pool, in any state.", (s) => s.workers.length);
  countGauge("rr_tcp_workers_memory_bytes", "Resident memory of all workers together.", (s) =>
    s.workers.reduce((sum, w) => sum + w.rss_bytes, 0),
  );
  pidGauge(
    "rr_tcp_worker_memory_bytes",
    "Resident memory of each worker at the last reading (every supervisor.watch_tick, else at most a second old).",
    (w) => w.rss_bytes,
  );
  new Gauge({
    name: "rr_tcp_worker_state",
    help: "Each worker's state, in RoadRunner's names (inactive while starting, ready, working, stopping): one series of value 1 per worker.",
    labelNames: ["state", "pid"],
    registers,
    collect() {
      this.reset();
      for (const w of workers().workers) this.set({ state: roadRunnerState(w.status).name, pid: String(w.pid) }, 1);
    },
  });
  countGauge("rr_tcp_workers_ready", "Workers idle and ready for an event.", (s) => withStatus(s, WorkerStatus.READY));
  countGauge("rr_tcp_workers_working", "Workers with an event.", (s) => withStatus(s, WorkerStatus.WORKING));
  countGauge(
    "rr_tcp_workers_invalid",
    "Workers neither ready nor working (starting, stopping), as RoadRunner counts them.",
    (s) => s.workers.length - withStatus(s, WorkerStatus.READY, WorkerStatus.WORKING),
  );
  new Gauge({
    name: "rr_tcp_workers",
    help: `Workers by rr-tcp's state: ${labels(LIVE_STATUSES.map(([, name]) => name))}.`,
    labelNames: ["state"],
    registers,
    collect() {
      const state = workers();
      for (const [status, name] of LIVE_STATUSES) {
        this.set({ state: name }, withStatus(state, status));
      }
    },
  });
  pidGauge("rr_tcp_worker_execs", "Events each live worker was sent.", (w) => w.num_execs);
  countGauge("rr_tcp_requests_queue", "Events waiting for an idle worker.", (s) => s.queued);
  new Counter({
    name: "rr_tcp_worker_restarts_total",
    help: `Workers replaced while the pool ran, by cause: ${labels(RESTART_CAUSES)}.`,
    labelNames: ["reason"],
    registers,
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(pool.restarts())) this.inc({ reason }, count ?? 0);
    },
  });
}

function serverMetrics(
  registry: Registry,
  counters: () => Record<string, ServerCounters>,
  server: ControlledServer,
): void {
  const registers = [registry];
  // A counter per server, read from one of its numbers.
  const total = (name: string, help: string, value: (c: ServerCounters) => number) =>
    new Counter({
      name,
      help,
      labelNames: ["server"],
      registers,
      collect() {
        this.reset();
        for (const [name, c] of Object.entries(counters())) this.inc({ server: name }, value(c));
      },
    });
  // A counter per server and `label`, read from one of its records of counts.
  const byLabel = (name: string, help: string, label: string, values: (c: ServerCounters) => object) =>
    new Counter({
      name,
      help,
      labelNames: ["server", label],
      registers,
      collect() {
        this.reset();
        for (const [name, c] of Object.entries(counters())) {
          for (const [key, count] of Object.entries(values(c) as Record<string, number | undefined>)) {
            // Close reasons are named as the log names them (CLIENT_EOF), in a label's lower case.
            this.inc({ server: name, [label]: key.toLowerCase() }, count ?? 0);
          }
        }
      },
    });

  total("rr_tcp_connections_total", "Client connections accepted (and given events).", (c) => c.accepted);
  total(
    "rr_tcp_connections_rejected_total",
    "Client connections refused over max_connections (closed at once, no events).",
    (c) => c.rejected,
  );
  byLabel(
    "rr_tcp_connections_closed_total",
    `Client connections closed, by reason: ${labels(CLOSE_REASONS)} (closed_by_server: tcp.Close, tcp.WriteClose, the control API).`,
    "reason",
    (c) => c.closed,
  );
  total(
    "rr_tcp_tls_handshake_failures_total",
    "Client connections of TLS servers closed because their handshake failed or timed out (before any event).",
    (c) => c.tlsHandshakeFailures,
  );
  byLabel(
    "rr_tcp_proxy_headers_refused_total",
    `Client connections of servers with proxy_protocol closed for their PROXY header before any event, by problem: ${labels(PROXY_HEADER_PROBLEMS)} (untrusted: a source outside proxy_trusted).`,
    "problem",
    (c) => c.proxyRefused,
  );
  byLabel(
    "rr_tcp_events_total",
    `Events given to the pool, by event: ${labels(EVENT_KINDS)}.`,
    "event",
    (c) => c.events,
  );
  byLabel(
    "rr_tcp_replies_total",
    `Answers to events, by verb: ${labels(REPLY_KINDS)} (unknown: any other verb; error: the event failed).`,
    "verb",
    (c) => c.replies,
  );
  total("rr_tcp_bytes_received_total", "Bytes read from clients.", (c) => c.bytesReceived);
  total(
    "rr_tcp_bytes_sent_total",
    "Bytes written to clients: WRITE and WRITECLOSE bodies, and pushes.",
    (c) => c.bytesSent,
  );
  byLabel(
    "rr_tcp_pushes_total",
    `Pushes to clients from outside their events (tcp.Write, tcp.WriteClose, each client of a tcp.Broadcast), by outcome: ${labels(PUSH_OUTCOMES)}.`,
    "outcome",
    (c) => c.pushes,
  );
  total("rr_tcp_bytes_pushed_total", "Bytes of the pushes taken.", (c) => c.bytesPushed);
  new Gauge({
    name: "rr_tcp_connections_open",
    help: "Open client connections (until their CLOSE event is answered).",
    labelNames: ["server"],
    registers,
    collect() {
      this.reset();
      for (const [name, c] of Object.entries(counters())) this.set({ server: name }, c.open);
    },
  });
  new Gauge({
    name: "rr_tcp_buffered_bytes",
    help: "Bytes all connections hold from their clients while waiting for the ends of messages (bounded by tcp.max_buffered_bytes).",
    registers,
    collect() {
      this.set(server.bufferedBytes());
    },
  });
  new Gauge({
    name: "rr_tcp_retained_bytes",
    help: "Memory those unfinished messages keep alive: the buffers they sit in, which can be larger than the bytes.",
    registers,
    collect() {
      this.set(server.retainedBytes());
    },
  });
}
