/**
 * rr-tcp's HTTP control API, on loopback by default (config `control.addr`):
 *
 *   GET  /health                  200 "ok" while the server runs
 *   GET  /workers                 the pool state (rr.tcp.v1.PoolState as JSON)
 *   GET  /metrics                 Prometheus metrics
 *   POST /reset                   replace every worker (RoadRunner's resetter.Reset)
 *   POST /connections/<uuid>/close close one client connection (RoadRunner's tcp.Close)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { CloseConnectionResponse, PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import { formatListenAddress, parseListenAddress } from "../server/address.js";
import type { ControlledPool, ControlledServer } from "./control-target.js";
import { listenFailure } from "../server/listener.js";
import { KeyedListenError } from "./listen-error.js";
import { createMetrics } from "./metrics.js";

const CLOSE_PATH = /^\/connections\/([0-9a-fA-F-]{1,64})\/close$/;

/** `control.addr` could not be listened on. */
export class ControlListenError extends KeyedListenError {
  override readonly name = "ControlListenError";
  readonly code = "CONTROL_LISTEN_FAILED";

  constructor(addr: string, cause: NodeJS.ErrnoException) {
    super("control.addr", addr, listenFailure(cause), cause);
  }
}

export class ControlServer {
  private constructor(
    private readonly http: Server,
    readonly address: string,
  ) {}

  static async listen(
    addr: string,
    pool: ControlledPool,
    server: ControlledServer,
    logger?: Logger,
  ): Promise<ControlServer> {
    const address = parseListenAddress(addr);
    const metrics = createMetrics(pool, server);
    const send = (res: ServerResponse, status: number, body: unknown, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(typeof body === "string" ? body : JSON.stringify(body) + "\n");
    };
    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? "/", "http://control");
      const route = `${req.method} ${url.pathname}`;
      if (route === "GET /health") return send(res, 200, "ok\n", "text/plain");
      if (route === "GET /workers") return send(res, 200, PoolState.toJSON(pool.state()));
      if (route === "GET /metrics") return send(res, 200, await metrics.metrics(), metrics.contentType);
      if (route === "POST /reset") {
        await pool.reset();
        return send(res, 200, { reset: true });
      }
      const close = req.method === "POST" ? CLOSE_PATH.exec(url.pathname) : null;
      if (close) {
        const closed = server.closeConnection(close[1]!.toLowerCase());
        return send(res, closed ? 200 : 404, CloseConnectionResponse.toJSON({ closed }));
      }
      send(res, 404, { error: `no route ${route}` });
    };
    const http = createServer((req, res) => {
      handle(req, res).catch((err: Error) => {
        logger?.error({ err, url: req.url }, "control API request failed");
        if (!res.headersSent) send(res, 500, { error: err.message });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      http.once("error", (err: NodeJS.ErrnoException) => reject(new ControlListenError(addr, err)));
      if (address.kind === "unix") http.listen(address.path, () => resolve());
      else http.listen(address.port, address.host || undefined, () => resolve());
    });
    const bound = http.address();
    return new ControlServer(
      http,
      typeof bound === "string" || bound === null
        ? formatListenAddress(address)
        : formatListenAddress({ kind: "tcp", host: bound.address, port: bound.port }),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }
}
