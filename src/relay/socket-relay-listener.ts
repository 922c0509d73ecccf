/**
 * Server side of socket relays (docs/wire.md#relays): listen on a tcp or unix address; each worker
 * connects, proves who it is with the pid handshake, and is handed to whoever waits for that pid.
 */
import { createServer, type Server, type Socket } from "node:net";
import { HandshakeError, RelayClosedError } from "./errors.js";
import { requestHello, type WorkerHello } from "./handshake.js";
import type { RelayAddress } from "../net/relay-address.js";
import { StreamRelay } from "./stream-relay.js";
import { listenOnRelayAddress } from "../net/index.js";
import { defaultMs } from "../options/index.js";

/** Options of {@link SocketRelayListener.listen}. */
export interface SocketRelayListenerOptions {
  /** Largest accepted payload per frame; default 256 MiB. */
  maxPayloadSize?: number;
  /** Pid sent in the handshake request; default `process.pid`. */
  ownPid?: number;
  /** How long a new connection has to answer the pid request; default 60 s. */
  handshakeTimeoutMs?: number;
  /** How long a handshaken worker waits for a `waitForWorker` call before it is dropped; default 60 s. */
  parkTimeoutMs?: number;
  /** Told about connections that are dropped (failed handshake, duplicate pid, nobody waiting). */
  onError?: (err: Error) => void;
}

interface Waiter {
  resolve(relay: StreamRelay): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface Parked {
  relay: StreamRelay;
  timer: NodeJS.Timeout;
}

/** Without an explicit timeout, a worker has as long as the pool waits for one to start. */
const DEFAULT_TIMEOUT_MS = defaultMs("PoolOptions", "allocate_timeout");

/**
 * Accepts worker connections on a tcp or unix socket and pairs each with its process by pid.
 * Relays handed out by {@link SocketRelayListener.waitForWorker} belong to the caller.
 */
export class SocketRelayListener {
  /** The address actually listened on, in RoadRunner syntax (the real port when 0 was asked). */
  readonly address: string;
  readonly #server: Server;
  readonly #opts: SocketRelayListenerOptions;
  readonly #waiters = new Map<number, Waiter>();
  readonly #parked = new Map<number, Parked>();
  readonly #handshaking = new Set<StreamRelay>();
  readonly #hellos = new WeakMap<StreamRelay, WorkerHello>();
  #closed = false;

  private constructor(server: Server, address: string, opts: SocketRelayListenerOptions) {
    this.#server = server;
    this.address = address;
    this.#opts = opts;
    server.on("connection", (socket: Socket) => this.#accept(socket));
  }

  /**
   * Starts listening. For a unix address, a stale socket file left by a previous run is removed
   * first (only if it is a socket nobody listens on any more).
   *
   * @throws ListenError (key `server.relay`) if the address cannot be listened on.
   */
  static async listen(address: RelayAddress, opts: SocketRelayListenerOptions = {}): Promise<SocketRelayListener> {
    const server = createServer({ noDelay: true });
    const actual = await listenOnRelayAddress(server, address, "server.relay", (err) => opts.onError?.(err));
    return new SocketRelayListener(server, actual, opts);
  }

  /** The pids of workers that connected and answered the handshake, waiting to be asked for. */
  get parkedPids(): number[] {
    return [...this.#parked.keys()];
  }

  /** What the worker on `relay` (one this listener handed out) said in its pid reply. */
  helloOf(relay: StreamRelay): WorkerHello | undefined {
    return this.#hellos.get(relay);
  }

  /**
   * Resolves with the relay of the worker whose handshake reported `pid`, whether it already
   * connected or connects within `timeoutMs`.
   *
   * @param signal rejects the wait with `signal.reason` when aborted (the process died, say).
   * @throws HandshakeError on timeout or if someone already waits for `pid`;
   *   RelayClosedError if the listener closes.
   */
  waitForWorker(pid: number, timeoutMs: number, signal?: AbortSignal): Promise<StreamRelay> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const parked = this.#parked.get(pid);
    if (parked !== undefined) {
      this.#parked.delete(pid);
      clearTimeout(parked.timer);
      return Promise.resolve(parked.relay);
    }
    if (this.#waiters.has(pid)) {
      return Promise.reject(
        new HandshakeError(`already waiting for the worker with pid ${pid} on ${this.address}`, { pid }),
      );
    }
    return new Promise<StreamRelay>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.#waiters.get(pid) !== waiter) return;
        this.#waiters.delete(pid);
        clearTimeout(waiter.timer);
        reject(signal?.reason instanceof Error ? signal.reason : new HandshakeError("aborted", { pid }));
      };
      const waiter: Waiter = {
        resolve: (relay) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(relay);
        },
        reject: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
        timer: setTimeout(() => {
          this.#waiters.delete(pid);
          waiter.reject(
            new HandshakeError(`no worker with pid ${pid} connected to ${this.address} within ${timeoutMs} ms`, {
              pid,
              timeoutMs,
            }),
          );
        }, timeoutMs),
      };
      if (signal?.aborted) {
        clearTimeout(waiter.timer);
        reject(signal.reason instanceof Error ? signal.reason : new HandshakeError("aborted", { pid }));
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.set(pid, waiter);
    });
  }

  /**
   * Stops listening, closes connections not yet handed out and rejects pending waits. Relays
   * already handed out stay open. A unix socket file is removed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const err = this.#closedError();
    for (const waiter of this.#waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    this.#waiters.clear();
    for (const parked of this.#parked.values()) {
      clearTimeout(parked.timer);
      parked.relay.close();
    }
    this.#parked.clear();
    for (const relay of this.#handshaking) relay.close();
    this.#handshaking.clear();
    // server.close() only calls back once every connection has ended, including relays that
    // belong to the pool now; so resolve once the listening handle itself is gone.
    await new Promise<void>((resolve) => {
      this.#server.close();
      setImmediate(resolve);
    });
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const peer = socket.remoteAddress !== undefined ? ` from ${socket.remoteAddress}:${socket.remotePort}` : "";
    const relay = new StreamRelay(socket, socket, {
      ...(this.#opts.maxPayloadSize !== undefined && { maxPayloadSize: this.#opts.maxPayloadSize }),
      name: `${this.address} connection${peer}`,
    });
    this.#handshaking.add(relay);
    requestHello(relay, this.#opts.ownPid ?? process.pid, this.#opts.handshakeTimeoutMs ?? DEFAULT_TIMEOUT_MS).then(
      (hello) => {
        this.#handshaking.delete(relay);
        this.#hellos.set(relay, hello);
        if (this.#closed) relay.close();
        else this.#hand(hello.pid, relay);
      },
      (err: Error) => {
        this.#handshaking.delete(relay);
        if (!this.#closed) this.#report(err);
      },
    );
  }

  #hand(pid: number, relay: StreamRelay): void {
    const waiter = this.#waiters.get(pid);
    if (waiter !== undefined) {
      this.#waiters.delete(pid);
      clearTimeout(waiter.timer);
      waiter.resolve(relay);
      return;
    }
    if (this.#parked.has(pid)) {
      relay.close();
      this.#report(
        new HandshakeError(`a second connection on ${this.address} reported pid ${pid}; it was closed`, { pid }),
      );
      return;
    }
    const parkTimeoutMs = this.#opts.parkTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const parked: Parked = {
      relay,
      timer: setTimeout(() => {
        this.#parked.delete(pid);
        relay.close();
        this.#report(
          new HandshakeError(
            `worker with pid ${pid} connected to ${this.address} but nobody waited for it within ${parkTimeoutMs} ms`,
            { pid, timeoutMs: parkTimeoutMs },
          ),
        );
      }, parkTimeoutMs),
    };
    relay.onClose(() => {
      if (this.#parked.get(pid) !== parked) return;
      this.#parked.delete(pid);
      clearTimeout(parked.timer);
    });
    this.#parked.set(pid, parked);
  }

  #report(err: Error): void {
    this.#opts.onError?.(err);
  }

  #closedError(): RelayClosedError {
    return new RelayClosedError(this.address, "the listener is closed");
  }
}
