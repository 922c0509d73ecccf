/**
 * rr-tcp's HTTP control API, on loopback by default (config `control.addr`):
 *
 *   GET  /health, /ready            RoadRunner's status checks (health.ts), as on status.address
 *   GET  /metrics                   Prometheus metrics (metrics.ts), as on metrics.address
 *   GET  /workers                   the pool state (rr.tcp.v1.PoolState as JSON)
 *   GET  /connections               the open connections (rr.tcp.v1.ConnectionList as JSON, as tcp.Connections)
 *   POST /reset                     replace every worker (RoadRunner's resetter.Reset)
 *   POST /connections/<uuid>/close  close one client connection (RoadRunner's tcp.Close)
 */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { CloseConnectionResponse, ConnectionList, PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import { defaultNumber } from "../options/index.js";
import type { ControlledPool, ControlledServer } from "./control-target.js";
import { healthRoutes, type HealthOptions } from "./health.js";
import { HttpEndpoint, jsonReply, type Route } from "./http-endpoint.js";
import { createMetrics, metricsRoutes } from "./metrics.js";

const CLOSE_PATH = /^\/connections\/([0-9a-fA-F-]{1,64})\/close$/;

/** What the control API serves besides the pool and the server, when shared with other endpoints. */
export interface ControlServerOptions {
  /** The metrics /metrics serves (shared with metrics.address); made here when not given. */
  readonly metrics?: Registry;
  /** How /health and /ready answer (shared with status.address); default the schema's unavailable_status_code. */
  readonly health?: HealthOptions;
}

export class ControlServer {
  private constructor(private readonly endpoint: HttpEndpoint) {}

  /** The bound address (the real port when 0 was asked for). */
  get address(): string {
    return this.endpoint.address;
  }

  /** @throws ListenError (key `control.addr`) for an address that cannot be parsed or bound. */
  static async listen(
    addr: string,
    pool: ControlledPool,
    server: ControlledServer,
    logger?: Logger,
    options: ControlServerOptions = {},
  ): Promise<ControlServer> {
    const health = options.health ?? {
      unavailableStatusCode: defaultNumber("StatusOptions", "unavailable_status_code"),
    };
    const routes = [
      ...healthRoutes(pool, health),
      ...metricsRoutes(options.metrics ?? createMetrics(pool, server)),
      ...controlRoutes(pool, server),
    ];
    return new ControlServer(await HttpEndpoint.listen(addr, "control.addr", routes, logger));
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}

/** The routes only the control API has. */
export function controlRoutes(pool: ControlledPool, server: ControlledServer): Route[] {
  return [
    { method: "GET", path: "/workers", handle: () => jsonReply(200, PoolState.toJSON(pool.state())) },
    {
      method: "GET",
      path: "/connections",
      handle: () => jsonReply(200, ConnectionList.toJSON({ connections: server.connections() })),
    },
    {
      method: "POST",
      path: "/reset",
      handle: async () => {
        await pool.reset();
        return jsonReply(200, { reset: true });
      },
    },
    {
      method: "POST",
      path: CLOSE_PATH,
      handle: ({ params }) => {
        const closed = server.closeConnection(params[0]!.toLowerCase());
        return jsonReply(closed ? 200 : 404, CloseConnectionResponse.toJSON({ closed }));
      },
    },
  ];
}
