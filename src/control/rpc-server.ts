/**
 * RoadRunner's RPC endpoint (`rpc.listen`, given to workers as RR_RPC): goridge frames over tcp
 * or unix, one request answered at a time per connection, JSON codec. A PHP app that calls
 * `$rpc->call('tcp.Close', $uuid)` through spiral/goridge works against rr-tcp unchanged.
 *
 * A frame that cannot be read (bad CRC, not an RPC request) ends that RPC connection only; a
 * request that can be read always gets an answer, an error frame when it cannot be served.
 *
 * Idle connections cannot lock callers out: a caller past LIMITS.rpcConnections gets the
 * connection idle the longest closed to make room. Idle connections are not closed otherwise
 * (unless `idleTimeoutMs` asks for it): a PHP worker keeps one spiral/goridge RPC connection for
 * its life and may not call for hours, and neither goridge nor RoadRunner's net/rpc reconnects. Only when every connection is in the middle of a call is the
 * new one refused. Waiting for a caller to read its reply is idle too, so a caller that never
 * reads cannot hold a place either. There is no per-peer budget: rpc.listen is loopback or a
 * unix socket in every sane setup, where every local process is the same peer (or has no address).
 */
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import {
  codecName,
  encodeRpcError,
  encodeRpcReply,
  FrameFlag,
  parseRpcRequest,
  FrameReader,
  RpcFrameError,
  type Frame,
  type RpcRequest,
} from "../goridge/index.js";
import { goJsonValue } from "../protocol/index.js";
import { errorMessage } from "../errors.js";
import { describeLimit, LIMITS } from "../limits.js";
import { ListenError, listenOnRelayAddress, parseRelayAddress, type RelayAddress } from "../net/index.js";
import { RpcMethodError, type RpcMethod } from "./rpc-methods.js";

const RPC_KEY = "rpc.listen";

/** The budget and idle limit; tests give small ones so they run fast. */
export interface RpcServerOptions {
  /** Connections at once; default LIMITS.rpcConnections. */
  readonly connections?: number;
  /** Milliseconds without a running call before a connection is closed; default 0, never. */
  readonly idleTimeoutMs?: number;
}

/** One caller's connection, as the budget sees it. */
interface RpcConnection {
  readonly socket: Socket;
  readonly peer: string;
  /** A method is running for it: never idle, never closed to make room. */
  calling: boolean;
  /** When it last became idle (opened, or its last method returned); performance.now(). */
  idleSince: number;
  idleTimer: NodeJS.Timeout | undefined;
}

export class RpcServer {
  // Map order is accept order; the one idle longest is found by idleSince, ties to the older.
  readonly #connections = new Map<Socket, RpcConnection>();
  #methods: ReadonlyMap<string, RpcMethod> | undefined;
  readonly #budget: number;
  readonly #idleMs: number;

  private constructor(
    private readonly server: Server,
    /** The address listened on, in RoadRunner syntax (the real port when 0 was asked). */
    readonly address: string,
    private readonly logger: Logger | undefined,
    options: RpcServerOptions,
  ) {
    this.#budget = options.connections ?? LIMITS.rpcConnections.value;
    this.#idleMs = options.idleTimeoutMs ?? 0;
    server.on("connection", (socket: Socket) => this.#serve(socket));
  }

  /**
   * Listens; calls are answered once {@link serve} gives the methods. RoadRunner's RPC is up
   * before its workers start, so rr-tcp listens first too and gives workers the bound address.
   *
   * @throws ListenError (key `rpc.listen`) for an address that is not tcp or unix, or cannot be bound.
   */
  static async listen(listen: string, logger?: Logger, options: RpcServerOptions = {}): Promise<RpcServer> {
    let parsed: RelayAddress;
    try {
      parsed = parseRelayAddress(listen);
    } catch (err) {
      throw new ListenError(RPC_KEY, listen, errorMessage(err), { cause: err });
    }
    // Half-open: like Go's net/rpc, a caller that half-closes after its requests still gets the replies.
    const server = createServer({ noDelay: true, allowHalfOpen: true });
    const address = await listenOnRelayAddress(server, parsed, RPC_KEY, (err) =>
      logger?.warn({ err }, "RPC listener error"),
    );
    return new RpcServer(server, address, logger, options);
  }

  serve(methods: ReadonlyMap<string, RpcMethod>): void {
    this.#methods = methods;
  }

  close(): Promise<void> {
    for (const connection of this.#connections.values()) this.#forget(connection);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #serve(socket: Socket): void {
    const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "unix socket";
    if (this.#connections.size >= this.#budget && !this.#makeRoom(peer)) {
      this.logger?.warn(
        { peer },
        `refusing the RPC connection from ${peer}: ${this.#budget} are open, every one in the middle of a call`,
      );
      socket.destroy();
      return;
    }
    const connection: RpcConnection = { socket, peer, calling: false, idleSince: 0, idleTimer: undefined };
    this.#connections.set(socket, connection);
    this.#idle(connection);
    socket.once("close", () => this.#forget(connection));
    socket.on("error", () => undefined);
    const reader = new FrameReader({ payloadLimit: LIMITS.rpcPayload });
    const frames: Frame[] = [];
    let answering = false;
    let ended = false;
    const drop = (err: Error): void => {
      this.logger?.warn({ err, peer }, `closing the RPC connection from ${peer}: ${err.message}`);
      socket.destroy();
    };
    // One request at a time: while one is answered the socket is not read, so a caller that
    // sends without reading its replies is stopped by TCP instead of queued for by the server.
    const answerAll = async (): Promise<void> => {
      if (answering) return;
      answering = true;
      socket.pause();
      try {
        for (let frame = frames.shift(); frame !== undefined; frame = frames.shift()) {
          const request = parseRpcRequest(frame);
          if (request.methodBytes.length > LIMITS.rpcMethodName.value) {
            throw new RpcFrameError(
              `the method name is ${request.methodBytes.length} bytes, over the limit of ${describeLimit(LIMITS.rpcMethodName)}`,
            );
          }
          this.#calling(connection);
          let reply: Buffer;
          try {
            reply = await this.#answer(request);
          } finally {
            // Idle from here on, also while the caller does not read its reply.
            this.#idle(connection);
          }
          if (socket.destroyed) return;
          if (!socket.write(reply)) await drainedOrClosed(socket);
        }
        // Like Go's net/rpc, a caller that half-closes after its requests still gets the replies.
        if (ended) socket.end();
        else socket.resume();
      } catch (err) {
        drop(err as Error);
      } finally {
        answering = false;
      }
    };
    socket.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk, (frame) => frames.push(frame));
      } catch (err) {
        drop(err as Error);
        return;
      }
      void answerAll();
    });
    socket.on("end", () => {
      ended = true;
      try {
        reader.end();
      } catch (err) {
        drop(err as Error);
        return;
      }
      void answerAll();
    });
  }

  /** Closes the connection idle the longest; false when every one is in the middle of a call. */
  #makeRoom(forPeer: string): boolean {
    let oldest: RpcConnection | undefined;
    for (const connection of this.#connections.values()) {
      if (!connection.calling && (oldest === undefined || connection.idleSince < oldest.idleSince)) oldest = connection;
    }
    if (oldest === undefined) return false;
    const idleMs = Math.round(performance.now() - oldest.idleSince);
    this.logger?.info(
      { peer: oldest.peer, idleMs },
      `closing the RPC connection from ${oldest.peer}, idle for ${idleMs} ms, to make room for ${forPeer}: ${this.#budget} are open`,
    );
    // Forgotten now, not at its close event, so the new connection's place is free at once.
    this.#forget(oldest);
    return true;
  }

  #calling(connection: RpcConnection): void {
    connection.calling = true;
    clearTimeout(connection.idleTimer);
    connection.idleTimer = undefined;
  }

  #idle(connection: RpcConnection): void {
    connection.calling = false;
    connection.idleSince = performance.now();
    clearTimeout(connection.idleTimer);
    if (this.#idleMs <= 0) return;
    connection.idleTimer = setTimeout(() => {
      if (connection.calling) return;
      this.logger?.info(
        { peer: connection.peer },
        `closing the RPC connection from ${connection.peer}: no call for ${this.#idleMs} ms`,
      );
      this.#forget(connection);
    }, this.#idleMs);
    // A forgotten caller must not keep rr-tcp's process alive.
    connection.idleTimer.unref();
  }

  #forget(connection: RpcConnection): void {
    clearTimeout(connection.idleTimer);
    this.#connections.delete(connection.socket);
    connection.socket.destroy();
  }

  async #answer(request: RpcRequest): Promise<Buffer> {
    if (this.#methods === undefined) return encodeRpcError(request, "rr-tcp is still starting; call again shortly");
    const method = this.#methods.get(request.method);
    if (method === undefined) return encodeRpcError(request, this.#notFound(request.method, this.#methods));
    if (request.codec !== FrameFlag.CODEC_JSON) {
      return encodeRpcError(
        request,
        `rr-tcp's RPC speaks the json codec; ${request.method} was called with ${codecName(request.codec)}`,
      );
    }
    let arg: unknown;
    try {
      // goridge-go leaves the argument at its zero value when the body is empty.
      arg = request.body.length === 0 ? "" : JSON.parse(request.body.toString("utf8"));
    } catch (err) {
      return encodeRpcError(request, `the argument of ${request.method} is not JSON: ${(err as Error).message}`);
    }
    try {
      return encodeRpcReply(request, Buffer.from(goJsonValue(await method(arg))));
    } catch (err) {
      if (!(err instanceof RpcMethodError)) this.logger?.error({ err, method: request.method }, "RPC method failed");
      return encodeRpcError(request, (err as Error).message);
    }
  }

  // Go net/rpc's own words, which RoadRunner's clients see for a wrong name.
  #notFound(name: string, methods: ReadonlyMap<string, RpcMethod>): string {
    const dot = name.lastIndexOf(".");
    if (dot < 0) return `rpc: service/method request ill-formed: ${name}`;
    const service = name.slice(0, dot);
    const known = [...methods.keys()].some((m) => m.startsWith(`${service}.`));
    return known ? `rpc: can't find method ${name}` : `rpc: can't find service ${name}`;
  }
}

function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}
