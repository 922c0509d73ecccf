/**
 * rr-tcp's HTTP control API, on loopback by default (config `control.addr`):
 *
 *   GET  /health, /ready            RoadRunner's status checks (health.ts), as on status.address
 *   GET  /metrics                   Prometheus metrics (metrics.ts), as on metrics.address
 *   GET  /workers                   the pool state (rr.tcp.v1.PoolState as JSON)
 *   GET  /connections               the open connections (rr.tcp.v1.ConnectionList as JSON, as tcp.Connections);
 *                                   ?server=main only that server's (tcp.List)
 *   POST /reset                     replace every worker (RoadRunner's resetter.Reset)
 *   POST /connections/<uuid>/close  close one client connection (RoadRunner's tcp.Close)
 *   POST /connections/<uuid>/write       the body's bytes to that client (tcp.Write), as they are
 *   POST /connections/<uuid>/writeclose  the same, then close it (tcp.WriteClose)
 *   POST /servers/<name>/broadcast       the body's bytes to every client of that server (tcp.Broadcast)
 *
 * A push answers 200 with WriteConnectionResponse or BroadcastResponse as JSON; 404 for an
 * unknown uuid or server, 409 for a connection that is closing, 503 for a client that does not
 * read (at its high-water mark: nothing was written, push again later), 413 for a body over
 * LIMITS.httpBody; in a cluster 504 when the instance holding the connection did not answer within
 * cluster.forward_timeout, 502 when Redis could not be reached; each with `{"error": "<why>"}`.
 */
import type { Logger } from "pino";
import {
  BroadcastResponse,
  CloseConnectionResponse,
  ConnectionList,
  PoolState,
  WriteConnectionResponse,
} from "../../gen/ts/rr/tcp/v1/control.js";
import { PushError, type PushErrorCode } from "../server/index.js";
import { errorCode, errorMessage } from "../errors.js";
import { defaultNumber } from "../options/index.js";
import type { ControlledPool, ControlledServer } from "./control-target.js";
import { healthRoutes, type HealthOptions } from "./health.js";
import { HttpEndpoint, HttpRequestError, jsonReply, type Route } from "./http-endpoint.js";
import { createMetrics, metricsRoutes, type MetricsSource } from "./metrics.js";

const CLOSE_PATH = /^\/connections\/([0-9a-fA-F-]{1,64})\/close$/;
const WRITE_PATH = /^\/connections\/([0-9a-fA-F-]{1,64})\/(write|writeclose)$/;
// A server's name is a YAML key: any text; in the path it is percent-encoded.
const BROADCAST_PATH = /^\/servers\/([^/]{1,256})\/broadcast$/;

/** The status each refusal of a push answers. */
const PUSH_STATUS: Record<PushErrorCode, number> = {
  UNKNOWN_CONNECTION: 404,
  UNKNOWN_SERVER: 404,
  CONNECTION_CLOSING: 409,
  CLIENT_NOT_READING: 503,
};

/** The status of a call a cluster could not forward (src/cluster's ClusterError codes). */
const FORWARD_STATUS: Partial<Record<string, number>> = { FORWARD_TIMEOUT: 504, FORWARD_FAILED: 502 };

/** `run`, a refused push answered with its status and message. */
async function pushing<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof PushError) throw new HttpRequestError(PUSH_STATUS[err.code], err.message, { cause: err });
    // A cluster's instance that did not answer in time (src/cluster's ClusterError), or Redis not reachable.
    const status = FORWARD_STATUS[errorCode(err) ?? ""];
    if (status !== undefined) throw new HttpRequestError(status, errorMessage(err), { cause: err });
    throw err;
  }
}

/** What the control API serves besides the pool and the server, when shared with other endpoints. */
export interface ControlServerOptions {
  /** The metrics /metrics serves (shared with metrics.address); made here when not given. */
  readonly metrics?: MetricsSource;
  /** How /health and /ready answer (shared with status.address); default the schema's unavailable_status_code. */
  readonly health?: HealthOptions;
  /** Awaited before each route that reads state answers (HttpEndpointOptions.before). */
  readonly before?: () => Promise<void>;
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
    return new ControlServer(
      await HttpEndpoint.listen(addr, "control.addr", routes, logger, { before: options.before }),
    );
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}

/** The routes only the control API has. */
export function controlRoutes(pool: ControlledPool, server: ControlledServer): Route[] {
  return [
    {
      method: "GET",
      path: "/workers",
      readsState: true,
      handle: () => jsonReply(200, PoolState.toJSON(pool.state())),
    },
    {
      method: "GET",
      path: "/connections",
      handle: async ({ url }) => {
        const only = url.searchParams.get("server") ?? "";
        return jsonReply(200, ConnectionList.toJSON({ connections: await pushing(() => server.connections(only)) }));
      },
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
      handle: async ({ params }) => {
        const closed = await server.closeConnection(params[0]!.toLowerCase());
        return jsonReply(closed ? 200 : 404, CloseConnectionResponse.toJSON({ closed }));
      },
    },
    {
      method: "POST",
      path: WRITE_PATH,
      handle: async ({ params, body }) => {
        const data = await body();
        const outcome = await pushing(() => server.write(params[0]!.toLowerCase(), data, params[1] === "writeclose"));
        return jsonReply(200, WriteConnectionResponse.toJSON(outcome));
      },
    },
    {
      method: "POST",
      path: BROADCAST_PATH,
      handle: async ({ params, body }) => {
        let name: string;
        try {
          name = decodeURIComponent(params[0]!);
        } catch (err) {
          throw new HttpRequestError(400, `the server's name in the path is not percent-encoded UTF-8`, { cause: err });
        }
        const data = await body();
        return jsonReply(200, BroadcastResponse.toJSON(await pushing(() => server.broadcast(name, data))));
      },
    },
  ];
}
