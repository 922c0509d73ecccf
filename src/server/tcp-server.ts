/**
 * The TCP servers of one config: every named server under `tcp.servers` listens on its own
 * address, and all of them share one pool (the context's `server` field tells them apart).
 * Owns the connection registry (by uuid, for `closeConnection` and pushes), `max_connections`,
 * and the graceful drain on shutdown.
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import pino, { type Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { ConnectionInfo } from "../../gen/ts/rr/tcp/v1/control.js";
import { Framing, Routing, type TcpOptions, type TcpServerOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { contextCodecFor, durationToMs, type ContextCodec } from "../protocol/index.js";
import { parseListenAddress, parseTrustedSources, remoteAddressOf, type ProxyHeaderError } from "../net/index.js";
import { Connection } from "./connection.js";
import type { EventPool } from "./event-pool.js";
import { LIMITS } from "../limits.js";
import { defaultList, defaultMs, defaultNumber } from "../options/index.js";
import { BufferBudget } from "./buffer-budget.js";
import { createFramer, type FramerOptions } from "./framer.js";
import { openListener, type Listener } from "./listener.js";
import { readProxyHeader, type ProxyHeaderOptions } from "./proxy-header-reader.js";
import { TlsTerminator } from "./tls-terminator.js";
import { PushError, type PushOutcome } from "./push.js";
import { copyServerCounters, newServerCounters, type ServerCounters } from "./server-counters.js";
import type { EventTimings, ServerObserver } from "./server-observer.js";

export type { ServerCounters } from "./server-counters.js";

const MB = 1024 * 1024;

/** What a TcpServer is made of. */
export interface TcpServerInit {
  /** The `tcp` section, with defaults applied (src/config). */
  readonly tcp: TcpOptions;
  readonly pool: EventPool;
  readonly logger?: Logger;
  /** Directory relative unix socket paths are resolved against; default the cwd. */
  readonly baseDir?: string;
  /** Gets each event's timings (the metrics); without one, no clock is read per event. */
  readonly observer?: ServerObserver | undefined;
  /**
   * Listen nowhere: the connections come through adopt(). The primary of several server
   * processes (tcp.processes) listens and hands each one to a process.
   */
  readonly adopting?: boolean;
}

/** Options of {@link TcpServer.shutdown}. */
export interface ShutdownOptions {
  /** How long events with workers may take before `onDrainTimeout` gives them up; default all of the timeout. */
  readonly drainMs?: number;
  /** Fails the events still with workers after `drainMs` (their connections then close). */
  readonly onDrainTimeout?: () => void;
}

/** One named server: its settings resolved once, its listener and counters. */
interface NamedServer {
  readonly name: string;
  readonly framer: FramerOptions;
  readonly sticky: boolean;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  /** Set when the server reads a PROXY protocol header before CONNECTED. */
  readonly proxy: ProxyHeaderOptions | undefined;
  /** Set for a TLS server: its certificate and handshake. */
  readonly tls: TlsTerminator | undefined;
  readonly counters: ServerCounters;
  readonly timings: EventTimings | undefined;
  listener?: Listener;
}

export class TcpServer {
  readonly #pool: EventPool;
  readonly #codec: ContextCodec;
  readonly #logger: Logger;
  readonly #servers: NamedServer[];
  readonly #connections = new Map<string, Connection>();
  /**
   * Sockets whose PROXY header or TLS handshake is not done yet: no Connection yet, but they
   * count against max_connections.
   */
  readonly #opening = new Set<Socket>();
  readonly #budget: BufferBudget<Connection>;
  #accepting = true;
  /** Resolves waiters of `#allClosed` when the registry empties. */
  #onEmpty: (() => void)[] = [];

  private constructor(init: TcpServerInit) {
    this.#pool = init.pool;
    this.#codec = contextCodecFor(init.tcp.context_codec);
    this.#logger = init.logger ?? pino({ level: "silent" });
    const maxReadSize = (init.tcp.read_buf_size || defaultNumber("TcpOptions", "read_buf_size")) * MB;
    this.#servers = Object.entries(init.tcp.servers).map(([name, options]) =>
      namedServer(name, options, maxReadSize, init.observer?.eventTimings(name), init.baseDir ?? process.cwd()),
    );
    const limit = init.tcp.max_buffered_bytes || LIMITS.bufferedBytes.value;
    this.#budget = new BufferBudget<Connection>(limit, (connection, held, total) => {
      this.#logger.warn(
        { uuid: connection.uuid, server: connection.server, held, total, limit },
        `closing the connection: the connections hold ${total} bytes waiting for the ends of messages, over tcp.max_buffered_bytes ${limit}, and this one the most (${held})`,
      );
      connection.closeNow("BUFFER_BUDGET");
    });
  }

  /** Bytes all connections hold from their clients while waiting for the ends of messages. */
  bufferedBytes(): number {
    return this.#budget.total;
  }

  /**
   * Opens every server's listener. If one fails, those already open are closed again.
   * @throws ListenError, AddressError
   */
  static async listen(init: TcpServerInit): Promise<TcpServer> {
    const server = new TcpServer(init);
    if (init.adopting === true) return server;
    try {
      for (const named of server.#servers) {
        const addr = init.tcp.servers[named.name]!.addr;
        named.listener = await openListener(
          named.name,
          addr,
          parseListenAddress(addr),
          (socket) => server.#accept(named, socket),
          {
            baseDir: init.baseDir,
            onError: (err) => server.#logger.error({ server: named.name, err }, "listener error"),
          },
        );
        server.#logger.info(
          { server: named.name, addr: named.listener.address },
          `tcp server ${named.name} listening on ${named.listener.address}`,
        );
      }
    } catch (err) {
      await server.stopAccepting();
      throw err;
    }
    return server;
  }

  /** The bound address of each server (real ports when 0 was configured). */
  addresses(): Record<string, string> {
    return Object.fromEntries(this.#servers.map((s) => [s.name, s.listener?.address ?? ""]));
  }

  /** Open connections per server name (the control API's gauge). */
  openConnections(): Record<string, number> {
    return Object.fromEntries(this.#servers.map((s) => [s.name, s.counters.open]));
  }

  /** Counters per server name (a snapshot). */
  counters(): Record<string, ServerCounters> {
    return Object.fromEntries(this.#servers.map((s) => [s.name, copyServerCounters(s.counters)]));
  }

  /**
   * The open connections, oldest first: uuid, server, client address, age, bytes each way.
   * @param server only this server's; every server's when absent or empty
   * @throws PushError UNKNOWN_SERVER for a name that is not a key of tcp.servers
   */
  connections(server?: string): ConnectionInfo[] {
    const now = Date.now();
    const only = server === undefined || server === "" ? undefined : this.#named(server).name;
    // The registry keeps accept order.
    const listed: ConnectionInfo[] = [];
    for (const connection of this.#connections.values()) {
      if (only === undefined || connection.server === only) listed.push(connection.info(now));
    }
    return listed;
  }

  /**
   * Writes `data` to one client from outside its events (tcp.Write; with `close`, tcp.WriteClose).
   * While the connection's event is with a worker the bytes follow its reply (Connection.push).
   * @throws PushError UNKNOWN_CONNECTION, CONNECTION_CLOSING, CLIENT_NOT_READING
   */
  write(uuid: string, data: Buffer, close = false): PushOutcome {
    const connection = this.#connections.get(uuid);
    if (connection === undefined) {
      throw new PushError("UNKNOWN_CONNECTION", `no open connection has uuid ${uuid}`, { uuid });
    }
    return connection.push(data, close);
  }

  /**
   * Writes `data` to every open connection of one server (tcp.Broadcast). Every client gets the
   * same Buffer, never a copy. A client that does not read (at its socket's high-water mark) is
   * skipped and listed, as a single tcp.Write to it would be refused; one on its way out is
   * skipped without a word, as it is gone.
   *
   * @returns how many took the bytes, and the uuids of those skipped for not reading
   * @throws PushError UNKNOWN_SERVER for a name that is not a key of tcp.servers
   */
  broadcast(server: string, data: Buffer): { reached: number; refused: string[] } {
    const name = this.#named(server).name;
    let reached = 0;
    const refused: string[] = [];
    for (const connection of [...this.#connections.values()]) {
      if (connection.server !== name) continue;
      try {
        connection.push(data, false);
        reached++;
      } catch (err) {
        if (!(err instanceof PushError)) throw err;
        if (err.code === "CLIENT_NOT_READING") refused.push(connection.uuid);
      }
    }
    if (refused.length > 0) {
      this.#logger.warn(
        { server: name, reached, refused: refused.length, bytes: data.length },
        `broadcast to ${name}: ${refused.length} of its clients do not read and were skipped (${refused.slice(0, 3).join(", ")}${refused.length > 3 ? ", ..." : ""})`,
      );
    }
    return { reached, refused };
  }

  /**
   * Takes a connection accepted elsewhere (by the primary of tcp.processes, which passed the socket
   * over IPC) as one of `server`'s, exactly as its own listener would have: max_connections, the
   * PROXY header, TLS, then CONNECTED. Unlike its own listener's sockets, a passed one has read
   * already when it arrives (Node starts reading it at once): up to one read, 64 KiB, waits in it.
   */
  adopt(server: string, socket: Socket): void {
    const named = this.#servers.find((s) => s.name === server);
    if (named === undefined) {
      socket.destroy();
      this.#logger.error({ server }, `a connection for an unknown server ${JSON.stringify(server)} was handed over`);
      return;
    }
    // What the listener's options would have given it: a socket made from a passed handle has the defaults.
    socket.pause();
    socket.allowHalfOpen = true;
    socket.setNoDelay(true);
    this.#accept(named, socket);
  }

  /** @throws PushError UNKNOWN_SERVER */
  #named(server: string): NamedServer {
    const named = this.#servers.find((s) => s.name === server);
    if (named === undefined) {
      const known = this.#servers.map((s) => s.name).join(", ");
      throw new PushError("UNKNOWN_SERVER", `no server is named ${JSON.stringify(server)} (tcp.servers has ${known})`, {
        server,
      });
    }
    return named;
  }

  /**
   * Memory the connections' unfinished client messages keep alive: what `bufferedBytes` counts,
   * plus the buffers those bytes sit in (and bytes of connections already closed by the budget
   * while their event is with a worker).
   */
  retainedBytes(): number {
    let bytes = 0;
    for (const connection of this.#connections.values()) bytes += connection.retainedBytes;
    return bytes;
  }

  /** The uuids of the open connections. */
  connectionIds(): string[] {
    return [...this.#connections.keys()];
  }

  /**
   * Closes a client connection with its CLOSE event (RoadRunner's `tcp.Close` RPC). The socket
   * closes at once; an event that is with a worker is awaited first, its WRITE dropped.
   * @returns false when no open connection has that uuid
   */
  closeConnection(uuid: string): boolean {
    const connection = this.#connections.get(uuid);
    if (!connection) return false;
    connection.closeNow("CLOSED_BY_SERVER");
    return true;
  }

  /** Stops accepting new connections; open ones go on. */
  async stopAccepting(): Promise<void> {
    this.#accepting = false;
    // Not connections yet: no events to send, nothing to drain.
    for (const socket of this.#opening) socket.destroy();
    this.#opening.clear();
    await Promise.all(this.#servers.map((s) => s.listener?.close()));
  }

  /**
   * Graceful shutdown: stop accepting, let events that are with workers finish (their WRITE is
   * written), close every connection with its CLOSE event, and wait for those to be answered,
   * all within `timeoutMs`. With `onDrainTimeout`, events still with workers after `drainMs` are
   * given up: it is called to fail them (the service kills their hung workers), so those
   * connections close too and their CLOSE events are answered in what is left of `timeoutMs`.
   * Past `timeoutMs`, the sockets still open are destroyed; their CLOSE events are still sent
   * (the pool's own shutdown answers or fails them).
   *
   * @returns true when every connection closed in time without giving up an event
   */
  async shutdown(timeoutMs: number, options: ShutdownOptions = {}): Promise<boolean> {
    const started = Date.now();
    const { onDrainTimeout } = options;
    const drainMs = onDrainTimeout === undefined ? timeoutMs : Math.min(options.drainMs ?? timeoutMs, timeoutMs);
    await this.stopAccepting();
    for (const connection of this.#connections.values()) connection.closeWhenIdle("SHUTDOWN");
    if (await this.#allClosed(drainMs)) return true;
    let closed = false;
    if (onDrainTimeout !== undefined) {
      this.#logger.warn(
        { open: this.#connections.size, drain_ms: drainMs },
        "shutdown: events still with workers after the drain time; failing them so that every connection gets its CLOSE event",
      );
      onDrainTimeout();
      closed = await this.#allClosed(Math.max(0, timeoutMs - (Date.now() - started)));
    }
    if (!closed) {
      this.#logger.warn(
        { open: this.#connections.size, timeout_ms: timeoutMs },
        "shutdown: connections still busy after the timeout, closing them",
      );
      for (const connection of this.#connections.values()) connection.destroySocket();
    }
    return false;
  }

  /** Resolves true once no connection is open, or false after `timeoutMs`. */
  #allClosed(timeoutMs: number): Promise<boolean> {
    if (this.#connections.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#onEmpty.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #accept(named: NamedServer, socket: Socket): void {
    const counters = named.counters;
    const open = counters.open + this.#opening.size;
    if (!this.#accepting || (named.maxConnections > 0 && open >= named.maxConnections)) {
      counters.rejected++;
      // Read before destroy(), which forgets the peer's address.
      const remoteAddr = remoteAddressOf(socket);
      socket.on("error", () => undefined);
      socket.destroy();
      if (this.#accepting) {
        this.#logger.warn(
          { server: named.name, max_connections: named.maxConnections, remote_addr: remoteAddr },
          `connection refused: tcp.servers.${named.name}.max_connections (${named.maxConnections}) reached`,
        );
      }
      return;
    }
    if (named.proxy === undefined && named.tls === undefined) {
      this.#open(named, socket, remoteAddressOf(socket));
      return;
    }
    void this.#openAfterPreamble(named, socket);
  }

  // The PROXY header and the TLS handshake come before CONNECTED: a connection that fails
  // either never becomes a Connection (no events), and is counted and logged.
  async #openAfterPreamble(named: NamedServer, socket: Socket): Promise<void> {
    const counters = named.counters;
    this.#opening.add(socket);
    let remoteAddr = remoteAddressOf(socket);
    let stream: Socket = socket;
    try {
      if (named.proxy !== undefined) {
        try {
          ({ remoteAddr } = await readProxyHeader(socket, named.proxy));
        } catch (err) {
          const { problem, silent } = err as ProxyHeaderError;
          counters.proxyRefused[problem] = (counters.proxyRefused[problem] ?? 0) + 1;
          socket.on("error", () => undefined);
          socket.destroy();
          this.#logger[silent ? "debug" : "warn"](
            { server: named.name, remote_addr: remoteAddr, problem, key: `tcp.servers.${named.name}.proxy_protocol` },
            `connection refused: ${errorMessage(err)}`,
          );
          return;
        }
      }
      if (named.tls !== undefined) {
        try {
          stream = await named.tls.handshake(socket, remoteAddr);
        } catch (err) {
          counters.tlsHandshakeFailures++;
          this.#logger.warn(
            { server: named.name, remote_addr: remoteAddr, key: `tcp.servers.${named.name}.tls` },
            `connection refused: ${errorMessage(err)}`,
          );
          return;
        }
      }
    } finally {
      this.#opening.delete(socket);
    }
    if (!this.#accepting || socket.destroyed) {
      stream.destroy();
      return;
    }
    this.#open(named, stream, remoteAddr);
  }

  /**
   * Reads every TLS server's certificate files again (SIGHUP, a reset); new connections get the
   * new ones. A server whose files cannot be used keeps its old certificate.
   *
   * @returns the errors, one per server that kept its old certificate (TlsError TLS_CERTIFICATE)
   */
  reloadCertificates(): Error[] {
    const failures: Error[] = [];
    for (const named of this.#servers) {
      if (named.tls === undefined) continue;
      try {
        named.tls.reload();
        this.#logger.info({ server: named.name }, `tcp server ${named.name}: TLS certificate reloaded`);
      } catch (err) {
        failures.push(err as Error);
        this.#logger.error({ server: named.name, err }, `${errorMessage(err)}; the old certificate stays`);
      }
    }
    return failures;
  }

  // A connection the server keeps: counted, registered, given its CONNECTED event.
  #open(named: NamedServer, socket: Socket, remoteAddr: string): void {
    const counters = named.counters;
    counters.accepted++;
    counters.open++;
    const uuid = randomUUID();
    const connection = new Connection({
      socket,
      server: named.name,
      uuid,
      remoteAddr,
      pool: this.#pool,
      codec: this.#codec,
      framer: createFramer(named.framer),
      budget: this.#budget,
      sticky: named.sticky,
      idleTimeoutMs: named.idleTimeoutMs,
      counters,
      timings: named.timings,
      logger: this.#logger,
      onDone: (done, reason) => {
        this.#connections.delete(done.uuid);
        counters.open--;
        counters.closed[reason] = (counters.closed[reason] ?? 0) + 1;
        if (this.#connections.size === 0 && this.#onEmpty.length > 0) {
          const waiters = this.#onEmpty;
          this.#onEmpty = [];
          for (const waiter of waiters) waiter();
        }
      },
    });
    this.#connections.set(uuid, connection);
    connection.start();
  }
}

function namedServer(
  name: string,
  options: TcpServerOptions,
  maxReadSize: number,
  timings: EventTimings | undefined,
  baseDir: string,
): NamedServer {
  return {
    name,
    framer: {
      framing: options.framing === Framing.UNSPECIFIED ? Framing.DELIMITER : options.framing,
      // A Go string is its bytes: the YAML string's UTF-8 bytes (\r\n for "\r\n").
      delimiter: Buffer.from(options.delimiter === "" ? "\r\n" : options.delimiter, "utf8"),
      lengthBytes: options.length_bytes || 4,
      maxMessageSize: options.max_message_size || LIMITS.message.value,
      maxReadSize,
    },
    sticky: options.routing === Routing.STICKY,
    idleTimeoutMs: durationToMs(options.idle_timeout),
    maxConnections: options.max_connections,
    proxy: options.proxy_protocol ? proxyOptions(options) : undefined,
    tls: options.tls === undefined ? undefined : new TlsTerminator(name, options.tls, baseDir),
    counters: newServerCounters(),
    timings,
  };
}

function proxyOptions(options: TcpServerOptions): ProxyHeaderOptions {
  const blocks =
    options.proxy_trusted.length > 0 ? options.proxy_trusted : defaultList("TcpServerOptions", "proxy_trusted");
  return {
    trusted: parseTrustedSources(blocks),
    trustEveryPeer: parseListenAddress(options.addr).kind === "unix",
    timeoutMs: durationToMs(options.proxy_header_timeout) || defaultMs("TcpServerOptions", "proxy_header_timeout"),
  };
}
