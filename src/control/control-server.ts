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
import { formatListenAddress, listenOn, parseListenAddress, stopListening, type ListenAddress } from "../net/index.js";
import type { ControlledPool, ControlledServer } from "./control-target.js";
import { createMetrics } from "./metrics.js";

const CLOSE_PATH = /^\/connections\/([0-9a-fA-F-]{1,64})\/close$/;

export class ControlServer {
  private constructor(
    private readonly http: Server,
    private readonly bound: ListenAddress,
  ) {}

  /** The bound address (the real port when 0 was asked for). */
  get address(): string {
    return formatListenAddress(this.bound);
  }

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
    const bound = await listenOn(http, address, { key: "control.addr", shown: addr }, (err) =>
      logger?.warn({ err }, "control API listener error"),
    );
    return new ControlServer(http, bound);
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    return Promise.all([closed, stopListening(this.http, this.bound)]).then(() => undefined);
  }
}
