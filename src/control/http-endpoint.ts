/**
 * One HTTP listener and its table of routes: the control API (`control.addr`), RoadRunner's
 * status endpoint (`status.address`) and its metrics endpoint (`metrics.address`) are each one,
 * with the routes they share (health.ts, metrics.ts) given to each, so no path is answered two
 * ways. Binding goes through src/net, whose errors name the config key; a route that throws
 * answers 500 and is logged, and never takes the listener down.
 *
 * Idle connections cannot lock probes out (issue 15): each endpoint holds at most
 * LIMITS.httpConnections, and past it the connection idle the longest (no request running:
 * keep-alive, or headers not yet in) is closed to make room; only when every one is in the middle
 * of a request is the new one refused. Node's timeouts close the rest: LIMITS.httpHeaders also
 * for a connection that sends nothing, LIMITS.httpRequest, LIMITS.httpKeepAlive. A route reads a
 * body only when it asks for one, and at most LIMITS.httpBody of it (413 past that).
 */
import type { Socket } from "node:net";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { errorMessage, RrTcpError } from "../errors.js";
import { describeLimit, LIMITS } from "../limits.js";
import {
  AddressError,
  formatListenAddress,
  ListenError,
  listenOn,
  parseListenAddress,
  stopListening,
  type ListenAddress,
} from "../net/index.js";

/** An answer: status, body and its content type. */
export interface HttpReply {
  readonly status: number;
  readonly body: string;
  /** Default `application/json`. */
  readonly type?: string;
}

/** What a route is given of the request. */
export interface RouteRequest {
  readonly url: URL;
  /** The groups of the route's pattern, when its path is one. */
  readonly params: readonly string[];
  /**
   * The request's body, read in full.
   * @throws HttpRequestError 413 past LIMITS.httpBody
   */
  body(): Promise<Buffer>;
}

/** A request the route cannot serve as asked: answered with `status` and the message, not logged as a failure. */
export class HttpRequestError extends RrTcpError<"HTTP_REQUEST"> {
  constructor(
    readonly status: number,
    message: string,
    options: { uuid?: string; cause?: unknown } = {},
  ) {
    super("HTTP_REQUEST", message, options);
  }
}

export interface Route {
  /** GET routes answer HEAD too (Node leaves out the body). */
  readonly method: "GET" | "POST";
  /** The exact path, or a pattern whose groups become `params`. */
  readonly path: string | RegExp;
  readonly handle: (request: RouteRequest) => HttpReply | Promise<HttpReply>;
  /**
   * It answers from the pool's or the servers' synchronous reads (state, counters): the
   * endpoint's `before` runs first for it, and only for such routes.
   */
  readonly readsState?: boolean;
}

/** A JSON answer: `value` and a newline. */
export function jsonReply(status: number, value: unknown): HttpReply {
  return { status, body: JSON.stringify(value) + "\n" };
}

/** A plain-text answer. */
export function textReply(status: number, body: string): HttpReply {
  return { status, body, type: "text/plain; charset=utf-8" };
}

/** The budget and timeouts; tests give small ones so they run fast. */
export interface HttpEndpointOptions {
  /** Connections at once; default LIMITS.httpConnections. */
  readonly connections?: number;
  /** Default LIMITS.httpHeaders; at most requestTimeoutMs, as Node requires. */
  readonly headersTimeoutMs?: number;
  /** Default LIMITS.httpRequest. */
  readonly requestTimeoutMs?: number;
  /** Default LIMITS.httpKeepAlive. */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Awaited before a route that reads state (Route.readsState) answers: the primary of several
   * server processes refreshes what they reported, so the answer is current
   * (service/process-group.ts).
   */
  readonly before?: () => Promise<void>;
}

/** One connection, as the budget sees it. */
interface HttpConnection {
  readonly socket: Socket;
  /** Requests on it not yet answered: while above 0 it is never closed to make room. */
  requests: number;
  /** When it last became idle (opened, or its last answer sent); performance.now(). */
  idleSince: number;
}

export class HttpEndpoint {
  private constructor(
    private readonly http: Server,
    private readonly bound: ListenAddress,
  ) {}

  /** The bound address (the real port when 0 was asked for). */
  get address(): string {
    return formatListenAddress(this.bound);
  }

  /**
   * Listens on `addr` (a listen address: `host:port`, `tcp://`, `unix://`) and answers `routes`.
   *
   * @param key the config key of the address, as errors name it: `control.addr`, `status.address`.
   * @throws ListenError naming `key`, for an address that cannot be parsed or bound.
   */
  static async listen(
    addr: string,
    key: string,
    routes: readonly Route[],
    logger?: Logger,
    options: HttpEndpointOptions = {},
  ): Promise<HttpEndpoint> {
    let address: ListenAddress;
    try {
      address = parseListenAddress(addr);
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      throw new ListenError(key, addr, err.message, { cause: err });
    }
    const requestTimeout = options.requestTimeoutMs ?? LIMITS.httpRequest.value;
    const headersTimeout = Math.min(options.headersTimeoutMs ?? LIMITS.httpHeaders.value, requestTimeout);
    const http = createServer(
      {
        headersTimeout,
        requestTimeout,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? LIMITS.httpKeepAlive.value,
        // Node checks the two timeouts only this often (30 s by default, longer than they are).
        connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
      },
      (req, res) => {
        answer(routes, req, options.before).then(
          (reply) => send(res, reply),
          (err: unknown) => {
            logger?.error({ err, url: req.url, key }, `HTTP request on ${key} failed`);
            if (!res.headersSent) send(res, jsonReply(500, { error: errorMessage(err) }));
            else res.destroy();
          },
        );
      },
    );
    budgetConnections(http, options.connections ?? LIMITS.httpConnections.value, key, logger);
    const bound = await listenOn(http, address, { key, shown: addr }, (err) =>
      logger?.warn({ err, key }, `HTTP listener error on ${key}`),
    );
    return new HttpEndpoint(http, bound);
  }

  /** Stops listening and drops open requests and keep-alive connections. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    return Promise.all([closed, stopListening(this.http, this.bound)]).then(() => undefined);
  }
}

/**
 * Keeps `http` at `budget` connections: a new one past it closes the one idle the longest, or is
 * refused (with a warning) when every one has a request running.
 */
function budgetConnections(http: Server, budget: number, key: string, logger: Logger | undefined): void {
  // Map order is accept order; ties of idleSince go to the older.
  const connections = new Map<Socket, HttpConnection>();
  http.on("connection", (socket: Socket) => {
    const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "unix socket";
    if (connections.size >= budget) {
      let oldest: HttpConnection | undefined;
      for (const c of connections.values()) {
        if (c.requests === 0 && (oldest === undefined || c.idleSince < oldest.idleSince)) oldest = c;
      }
      if (oldest === undefined) {
        logger?.warn(
          { peer, key },
          `refusing the HTTP connection from ${peer} on ${key}: ${budget} are open, every one in the middle of a request`,
        );
        socket.destroy();
        return;
      }
      logger?.info(
        { peer, key },
        `closing the idle HTTP connection idle the longest on ${key} to make room for ${peer}`,
      );
      // Forgotten now, not at its close event, so the new connection's place is free at once.
      connections.delete(oldest.socket);
      oldest.socket.destroy();
    }
    connections.set(socket, { socket, requests: 0, idleSince: performance.now() });
    socket.once("close", () => connections.delete(socket));
  });
  http.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const connection = connections.get(req.socket);
    if (connection === undefined) return;
    connection.requests++;
    res.once("close", () => {
      connection.requests--;
      connection.idleSince = performance.now();
    });
  });
}

/** The route for the request, run; 404 for an unknown path, 405 for a known one asked with another method. */
async function answer(
  routes: readonly Route[],
  req: IncomingMessage,
  before: (() => Promise<void>) | undefined,
): Promise<HttpReply & { allow?: string }> {
  const url = new URL(req.url ?? "/", "http://rr-tcp");
  const method = req.method === "HEAD" ? "GET" : req.method;
  const allowed: string[] = [];
  for (const route of routes) {
    const params = match(route.path, url.pathname);
    if (params === undefined) continue;
    if (route.method !== method) {
      allowed.push(route.method === "GET" ? "GET, HEAD" : route.method);
      continue;
    }
    try {
      if (route.readsState) await before?.();
      return await route.handle({ url, params, body: () => readBody(req, LIMITS.httpBody.value) });
    } catch (err) {
      if (err instanceof HttpRequestError) return jsonReply(err.status, { error: err.message });
      throw err;
    }
  }
  if (allowed.length > 0) {
    return {
      ...jsonReply(405, { error: `${req.method} is not allowed on ${url.pathname}` }),
      allow: allowed.join(", "),
    };
  }
  return jsonReply(404, { error: `no route ${req.method} ${url.pathname}` });
}

/** The whole body, or a 413 once it passes `limit` (the rest is read and dropped, so the answer still gets out). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off("data", onData);
      req.resume();
      reject(
        new HttpRequestError(
          413,
          `the request's body is over the limit of ${describeLimit(LIMITS.httpBody)}; send the bytes in several requests`,
        ),
      );
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks, length)));
    req.once("error", reject);
  });
}

function match(path: string | RegExp, pathname: string): string[] | undefined {
  if (typeof path === "string") return path === pathname ? [] : undefined;
  const found = path.exec(pathname);
  return found ? found.slice(1).map((group) => group ?? "") : undefined;
}

function send(res: ServerResponse, reply: HttpReply & { allow?: string }): void {
  const headers: Record<string, string> = { "content-type": reply.type ?? "application/json" };
  if (reply.allow !== undefined) headers.allow = reply.allow;
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}
