/**
 * One running rr-tcp: a loaded config turned into a worker pool, the TCP servers on it, and, when
 * configured, the control API, RoadRunner's RPC endpoint, its status endpoint (health and
 * readiness) and its metrics endpoint; and their orderly stop. The pool is started through an
 * injected function (the CLI passes `WorkerPool.start`), so the server side never imports src/pool.
 */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import type { PoolOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { Cluster } from "../cluster/index.js";
import type { LoadedConfig } from "../config/load.js";
import { workerCommand } from "../config/defaults.js";
import { formatIssue } from "../config/errors.js";
import type { ControlServer } from "../control/control-server.js";
import type { HttpEndpoint } from "../control/http-endpoint.js";
import { createMetrics, EventHistograms } from "../control/metrics.js";
import { RpcServer } from "../control/rpc-server.js";
import { defaultMs } from "../options/index.js";
import { durationToMs } from "../protocol/index.js";
import type { EventPool } from "../server/event-pool.js";
import { TcpServer } from "../server/tcp-server.js";
import { openEndpoints, rpcMethodsFor } from "./endpoints.js";

/** The least time workers get for the stop frame when draining used the whole destroy_timeout. */
const STOP_GRACE_MS = 1_000;
/**
 * The most of destroy_timeout kept back from draining (at most half of it): when events are still
 * with workers then, they are failed (their hung workers killed), every connection's CLOSE event
 * goes to another worker or a fresh one, and the workers get the stop frame, all within
 * destroy_timeout.
 */
const AFTER_DRAIN_MAX_MS = 5_000;

/** What is needed to start a pool (src/pool's WorkerPoolOptions has this shape). */
export interface PoolStartOptions {
  pool: PoolOptions;
  command: string[];
  /** RR_RPC (from rpc.listen) and server.env. */
  env: Record<string, string>;
  relay: string;
  logger: Logger;
  /** The config file's directory: workers run there. */
  cwd: string;
}

/**
 * `pool` as the control API and the RPC methods drive it, where a reset (rr-tcp reset,
 * resetter.Reset, POST /reset) also reloads the TLS servers' certificates, as RoadRunner's reset
 * reloads a plugin.
 */
function resettingCertificates(pool: ServicePool, server: TcpServer): ServicePool {
  const reset = async (): Promise<void> => {
    server.reloadCertificates();
    await pool.reset();
  };
  // Everything else is the pool's own, called on the pool (its private fields need it as `this`).
  return new Proxy(pool, {
    get(target, property) {
      if (property === "reset") return reset;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A started pool, as the service uses it. */
export interface ServicePool extends EventPool {
  state(): PoolState;
  reset(): Promise<void>;
  addWorker(): Promise<void>;
  removeWorker(): Promise<void>;
  /** Workers replaced while it ran, by cause. */
  restarts(): Partial<Record<string, number>>;
  /** A live worker's CPU use over its life, in percent of one core. */
  cpuPercent(pid: number): number;
  /** Kills the workers that have an event now, failing those events; they are replaced. */
  killBusyWorkers(reason: string): number;
  /** Stops every worker; SIGKILL after `timeoutMs`. */
  destroy(timeoutMs?: number): Promise<void>;
}

export type StartPool = (options: PoolStartOptions) => Promise<ServicePool>;

/** How a server process of several (tcp.processes) starts, as its primary asks (service/process-member.ts). */
export interface ServiceStartOptions {
  /** Listen nowhere: the primary of tcp.processes hands the connections over (TcpServer.adopt). */
  readonly adopting?: boolean;
  /** Keep a metrics registry though no endpoint of this process serves it: the primary's does. */
  readonly metrics?: boolean;
}

/** The running pieces, as Service.start made them. */
interface ServiceParts {
  readonly server: TcpServer;
  readonly pool: ServicePool;
  readonly control: ControlServer | undefined;
  readonly status: HttpEndpoint | undefined;
  readonly metrics: HttpEndpoint | undefined;
  readonly rpc: RpcServer | undefined;
  readonly cluster: Cluster | undefined;
  readonly registry: Registry | undefined;
  /** Set when stop() begins: /ready then fails while connections drain. */
  readonly lifecycle: { stopping: boolean };
}

/** The running pieces. */
export class Service {
  #stopping: Promise<void> | undefined;
  readonly server: TcpServer;
  readonly pool: ServicePool;
  readonly control: ControlServer | undefined;
  /** RoadRunner's status endpoint (`status.address`): GET /health, /ready. */
  readonly status: HttpEndpoint | undefined;
  /** RoadRunner's metrics endpoint (`metrics.address`): GET /metrics. */
  readonly metrics: HttpEndpoint | undefined;
  readonly rpc: RpcServer | undefined;
  /** The cluster (config `cluster`): this instance's place among those sharing one Redis. */
  readonly cluster: Cluster | undefined;
  /** The metrics every endpoint that serves them shares; undefined when none does. */
  readonly registry: Registry | undefined;
  readonly #lifecycle: { stopping: boolean };

  private constructor(
    parts: ServiceParts,
    private readonly logger: Logger,
    private readonly destroyTimeoutMs: number,
  ) {
    this.server = parts.server;
    this.pool = parts.pool;
    this.control = parts.control;
    this.rpc = parts.rpc;
    this.status = parts.status;
    this.metrics = parts.metrics;
    this.cluster = parts.cluster;
    this.registry = parts.registry;
    this.#lifecycle = parts.lifecycle;
  }

  /**
   * Starts the pool, then the listeners, then the control API, the status and the metrics
   * endpoints. Whatever started is stopped again if a later step fails.
   */
  static async start(
    loaded: LoadedConfig,
    logger: Logger,
    startPool: StartPool,
    options: ServiceStartOptions = {},
  ): Promise<Service> {
    const { config } = loaded;
    for (const warning of loaded.warnings) logger.warn({ key: warning.path }, `config: ${formatIssue(warning)}`);
    const tcp = config.tcp!;
    const env: Record<string, string> = {};
    // First: an unreachable Redis stops the start before any worker or listener is up.
    const cluster = config.cluster ? await Cluster.connect(config.cluster, logger) : undefined;
    if (cluster) logger.info({ instance: cluster.instanceId }, `cluster: instance ${cluster.instanceId} joined`);
    let rpc: RpcServer | undefined;
    try {
      rpc = config.rpc?.listen ? await RpcServer.listen(config.rpc.listen, logger) : undefined;
    } catch (err) {
      await cluster?.close();
      throw err;
    }
    if (rpc) {
      env.RR_RPC = rpc.address;
      logger.info({ addr: rpc.address }, `RPC listening on ${rpc.address}`);
    }
    Object.assign(env, config.server?.env ?? {});
    let pool: ServicePool | undefined;
    let server: TcpServer | undefined;
    let control: ControlServer | undefined;
    let status: HttpEndpoint | undefined;
    let metrics: HttpEndpoint | undefined;
    let registry: Registry | undefined;
    const lifecycle = { stopping: false };
    try {
      pool = await startPool({
        pool: tcp.pool!,
        command: workerCommand(config),
        env,
        relay: config.server?.relay || "pipes",
        logger,
        cwd: loaded.baseDir,
      });
      // Events are timed only when some endpoint serves the metrics.
      const histograms =
        config.control?.addr || config.metrics?.address || options.metrics ? new EventHistograms() : undefined;
      // In a cluster the servers' events pass the registry on their way to the pool.
      const events = cluster ? cluster.tracking(pool) : pool;
      server = await TcpServer.listen({
        tcp,
        pool: events,
        logger,
        baseDir: loaded.baseDir,
        observer: histograms,
        adopting: options.adopting,
      });
      cluster?.serve(server);
      // What the control API and the RPC methods push to: this instance's servers, or every instance's.
      const reached = cluster ? cluster.server(server) : server;
      registry = histograms && createMetrics(pool, server, histograms);
      const controlled = resettingCertificates(pool, server);
      const targets = { pool: controlled, server: reached, metrics: registry, stopping: () => lifecycle.stopping };
      ({ control, status, metrics } = await openEndpoints(config, logger, targets));
      rpc?.serve(rpcMethodsFor(targets));
    } catch (err) {
      // Undo everything, each step whatever the others do; the error to report is the first one.
      // RPC goes first: a worker holding an RPC connection should see it end before its stop.
      await Promise.allSettled([rpc?.close(), control?.close(), status?.close(), metrics?.close()]);
      await Promise.allSettled([server?.shutdown(0)]);
      await Promise.allSettled([pool?.destroy(), cluster?.close()]);
      throw err;
    }
    return new Service(
      { server, pool, control, status, metrics, rpc, cluster, registry, lifecycle },
      logger,
      durationToMs(tcp.pool?.destroy_timeout) || defaultMs("PoolOptions", "destroy_timeout"),
    );
  }

  /**
   * Graceful stop: /ready fails from now on (/health stays 200, as RoadRunner's status plugin
   * does), stop accepting, let events with workers finish (up to destroy_timeout less what the
   * rest needs), kill the workers still hung in an event, close every connection with its CLOSE
   * event (served by the other workers or fresh ones), stop the control API and the status and metrics endpoints,
   * then destroy the pool (stop frames, SIGKILL after destroy_timeout). Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const started = Date.now();
      this.#lifecycle.stopping = true;
      const timeoutMs = this.destroyTimeoutMs;
      const drainMs = timeoutMs - Math.min(timeoutMs / 2, AFTER_DRAIN_MAX_MS);
      // The pool still runs while the server shuts down, so the CLOSE events are served before
      // any worker gets the stop frame; an event that outlives the drain has a hung worker, which
      // is killed (and replaced) so that its connection's CLOSE is served too.
      const drained = await this.server.shutdown(timeoutMs, {
        drainMs,
        onDrainTimeout: () => {
          const killed = this.pool.killBusyWorkers(`the shutdown's drain time (${drainMs} ms) ran out`);
          this.logger.warn({ killed, drain_ms: drainMs }, `shutdown: killed ${killed} workers hung in an event`);
        },
      });
      await Promise.all([this.control?.close(), this.status?.close(), this.metrics?.close()]);
      await this.rpc?.close();
      // After the connections closed (their entries went with them): the instance leaves the registry.
      await this.cluster?.close();
      // One destroy_timeout for the whole shutdown, not one for draining and another for the
      // workers; they still get a moment for the stop frame when draining used it all.
      await this.pool.destroy(Math.max(STOP_GRACE_MS, this.destroyTimeoutMs - (Date.now() - started)));
      this.logger.info({ drained, ms: Date.now() - started }, "rr-tcp stopped");
    })();
    return this.#stopping;
  }
}
