/**
 * How the pool reaches its workers' relays (docs/wire.md#relays): over the child's stdin/stdout (`pipes`),
 * or over a tcp/unix socket the pool listens on, where each worker connects and is recognised by
 * the pid it reports in the handshake. Either way the pid handshake is done before a relay is
 * handed out.
 */
import type { ChildProcess, StdioOptions } from "node:child_process";
import type { Logger } from "pino";
import { LIMITS } from "../limits.js";
import { parseRelayAddress } from "../net/index.js";
import { requestHello, SocketRelayListener, StreamRelay, type Relay, type WorkerHello } from "../relay/index.js";

// The relay layer's own deadline, never reached: the caller's signal ends every wait first.
// (The largest delay a Node timer takes.)
const NO_DEADLINE_MS = 2 ** 31 - 1;

/** A worker's relay once its pid handshake succeeded, and what it said in its pid reply. */
export interface HandshakenRelay {
  readonly relay: Relay;
  readonly hello: WorkerHello;
}

/** Where workers' relays come from. One per pool. */
export interface WorkerRelaySource {
  /** What workers get in RR_RELAY (for a socket, the address actually listened on). */
  readonly address: string;
  /** stdio of a worker process: stdin/stdout are the relay for pipes, else only logged. */
  readonly stdio: StdioOptions;
  /** True when the worker's stdout carries frames (pipes); else stdout is logged. */
  readonly usesStdout: boolean;
  /**
   * The relay of the spawned `child` (OS pid `pid`), once its pid handshake succeeded. The
   * caller owns the deadline (allocate_timeout, on the pool's clock): it aborts `signal` when it
   * passes, or when the process exits.
   *
   * @param signal aborted to give up; rejects with the signal's reason.
   * @throws HandshakeError, RelayClosedError, or the abort reason.
   */
  connect(child: ChildProcess, pid: number, signal: AbortSignal): Promise<HandshakenRelay>;
  /** Releases what the source holds (the listening socket). */
  close(): Promise<void>;
}

/** Options of {@link openRelaySource}. */
export interface RelaySourceOptions {
  /** Handshake timeout for socket connections (allocate_timeout). */
  timeoutMs: number;
  /** Largest payload of a worker's frame (tcp.pool.max_frame_size); a larger one closes its relay. */
  maxFrameSize?: number;
  logger: Logger;
}

/**
 * Opens the relay source for `server.relay`: `pipes` (default), `tcp://host:port`
 * (port 0 picks a free one) or `unix:///path.sock`.
 *
 * @throws RelayAddressError for a bad address, RelayListenError if it cannot be listened on.
 */
export async function openRelaySource(
  relay: string | undefined,
  options: RelaySourceOptions,
): Promise<WorkerRelaySource> {
  const address = parseRelayAddress(relay ?? "pipes");
  if (address.kind === "pipes") return new PipesRelaySource(options.maxFrameSize ?? LIMITS.framePayload.value);
  const listener = await SocketRelayListener.listen(address, {
    maxPayloadSize: options.maxFrameSize,
    handshakeTimeoutMs: options.timeoutMs,
    parkTimeoutMs: options.timeoutMs,
    onError: (err) => options.logger.warn({ err }, `worker relay ${address.kind}: ${err.message}`),
  });
  return new SocketRelaySource(listener);
}

class PipesRelaySource implements WorkerRelaySource {
  readonly address = "pipes";
  readonly stdio: StdioOptions = ["pipe", "pipe", "pipe"];
  readonly usesStdout = true;

  constructor(private readonly maxFrameSize: number) {}

  async connect(child: ChildProcess, pid: number, signal: AbortSignal): Promise<HandshakenRelay> {
    if (child.stdout === null || child.stdin === null) throw new Error("worker has no stdio pipes");
    const relay = new StreamRelay(child.stdout, child.stdin, {
      name: `pipes of worker pid ${pid}`,
      maxPayloadSize: this.maxFrameSize,
    });
    // Giving up closes the relay, which ends the handshake's wait for the reply.
    const giveUp = (): void => relay.close();
    signal.addEventListener("abort", giveUp, { once: true });
    try {
      // In pipes mode the reported pid only has to be > 0 (requestHello checks that).
      return { relay, hello: await requestHello(relay, process.pid, NO_DEADLINE_MS) };
    } catch (err) {
      throw signal.aborted ? signal.reason : err;
    } finally {
      signal.removeEventListener("abort", giveUp);
    }
  }

  async close(): Promise<void> {}
}

class SocketRelaySource implements WorkerRelaySource {
  readonly address: string;
  // stdin is closed: a worker on a socket relay reads nothing from it.
  readonly stdio: StdioOptions = ["ignore", "pipe", "pipe"];
  readonly usesStdout = false;
  readonly #listener: SocketRelayListener;

  constructor(listener: SocketRelayListener) {
    this.#listener = listener;
    this.address = listener.address;
  }

  async connect(_child: ChildProcess, pid: number, signal: AbortSignal): Promise<HandshakenRelay> {
    const relay = await this.#listener.waitForWorker(pid, NO_DEADLINE_MS, signal);
    return { relay, hello: this.#listener.helloOf(relay) ?? { pid, contextCodecs: [], echoEventId: false } };
  }

  close(): Promise<void> {
    return this.#listener.close();
  }
}
