/**
 * The HTTP endpoints a config asks for (the control API, RoadRunner's status and metrics
 * endpoints) and the RPC methods, over a pool and servers: one process's own (service.ts), or
 * the primary's view of several server processes (process-group.ts).
 */
import type { Logger } from "pino";
import type { Config } from "../../gen/ts/rr/tcp/v1/options.js";
import { ControlServer } from "../control/control-server.js";
import type { ControlledPool, ControlledServer } from "../control/control-target.js";
import { healthRoutes, type HealthOptions } from "../control/health.js";
import { HttpEndpoint } from "../control/http-endpoint.js";
import { metricsRoutes, type MetricsSource } from "../control/metrics.js";
import { createRpcMethods, STATE_READING_METHODS, type RpcMethod } from "../control/rpc-methods.js";
import { defaultNumber } from "../options/index.js";

/** What the endpoints answer from. */
export interface EndpointTargets {
  readonly pool: ControlledPool;
  /** What the control API and the RPC methods push to. */
  readonly server: ControlledServer;
  /** Undefined when no endpoint serves metrics. */
  readonly metrics: MetricsSource | undefined;
  /** True once the service is stopping: /ready then fails. */
  readonly stopping: () => boolean;
  /** Awaited before each request or call that reads state (pool state, counters) is answered. */
  readonly before?: () => Promise<void>;
}

/** The endpoints that are listening (each undefined when not configured). */
export interface Endpoints {
  readonly control: ControlServer | undefined;
  readonly status: HttpEndpoint | undefined;
  readonly metrics: HttpEndpoint | undefined;
}

/** Opens the configured endpoints; if one cannot listen, those already open are closed and its error thrown. */
export async function openEndpoints(config: Config, logger: Logger, targets: EndpointTargets): Promise<Endpoints> {
  const health: HealthOptions = {
    unavailableStatusCode:
      config.status?.unavailable_status_code || defaultNumber("StatusOptions", "unavailable_status_code"),
    stopping: targets.stopping,
  };
  const options = { before: targets.before };
  let control: ControlServer | undefined;
  let status: HttpEndpoint | undefined;
  let metrics: HttpEndpoint | undefined;
  try {
    if (config.control?.addr) {
      control = await ControlServer.listen(config.control.addr, targets.pool, targets.server, logger, {
        metrics: targets.metrics,
        health,
        ...options,
      });
      logger.info({ addr: control.address }, `control API listening on ${control.address}`);
    }
    if (config.status?.address) {
      const routes = healthRoutes(targets.pool, health);
      status = await HttpEndpoint.listen(config.status.address, "status.address", routes, logger, options);
      logger.info({ addr: status.address }, `status (health, ready) listening on ${status.address}`);
    }
    if (config.metrics?.address && targets.metrics) {
      const routes = metricsRoutes(targets.metrics);
      metrics = await HttpEndpoint.listen(config.metrics.address, "metrics.address", routes, logger, options);
      logger.info({ addr: metrics.address }, `metrics listening on ${metrics.address}`);
    }
  } catch (err) {
    await closeEndpoints({ control, status, metrics });
    throw err;
  }
  return { control, status, metrics };
}

/** Stops every endpoint, each whatever the others do. */
export async function closeEndpoints(endpoints: Endpoints): Promise<void> {
  await Promise.allSettled([endpoints.control?.close(), endpoints.status?.close(), endpoints.metrics?.close()]);
}

/** The RPC methods over the targets, those that read state awaiting `before` first. */
export function rpcMethodsFor(targets: EndpointTargets): Map<string, RpcMethod> {
  const methods = createRpcMethods(targets.pool, targets.server);
  const before = targets.before;
  if (before === undefined) return methods;
  return new Map(
    [...methods].map(([name, method]): [string, RpcMethod] =>
      STATE_READING_METHODS.has(name)
        ? [
            name,
            async (arg: unknown) => {
              await before();
              return method(arg);
            },
          ]
        : [name, method],
    ),
  );
}
