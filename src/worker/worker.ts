/**
 * The worker's side of the goridge relay (docs/wire.md#worker-lifecycle): the pid handshake,
 * requests in, replies out, the stop command. Knows nothing of TCP; `TcpWorker` builds on it.
 */
import {
  Byte10,
  encodeErrorFrame,
  encodePayloadFrame,
  eventIdOf,
  FrameFlag,
  parseControl,
  splitPayload,
  STOP_REQUEST,
  type Frame,
} from "../goridge/index.js";
import { connectRelay, encodePidReply, RelayClosedError, type Relay, type WorkerAbilities } from "../relay/index.js";
import { parseRelayAddress } from "../net/index.js";
import { WorkerError } from "./errors.js";
import type { Payload, PayloadInit } from "./payload.js";
import { PipeRelay } from "./pipe-relay.js";
import { exitWhenOrphaned } from "./orphan-watch.js";
import { guardStdout } from "./stdout-guard.js";

/**
 * How a worker on the pipes relay reads and writes its frames:
 * - `event-loop`: through `process.stdin` and `process.stdout` streams; between events the
 *   event loop runs (timers, sockets, signal handlers);
 * - `blocking`: with blocking reads of fd 0 and writes of fd 1, one of each per event, as PHP's
 *   worker does; between events the process sleeps in the read and nothing else runs.
 * Socket relays (`tcp://`, `unix://`) always use the event loop.
 */
export type RelayMode = "event-loop" | "blocking";

/** Options of a {@link Worker}. */
export interface WorkerOptions {
  /** The pid to report in the handshake; this process's pid by default, as RoadRunner's socket relay requires. */
  pid?: number;
  /** What the pid reply says this worker can do beyond RoadRunner's protocol (none by default). */
  abilities?: WorkerAbilities;
  /** How the pipes relay is read and written; `event-loop` by default (see {@link RelayMode}). */
  mode?: RelayMode;
}

// A frame Worker answered or ignored itself: read the next one.
const SKIP = Symbol("skip");

const STOP_REQUEST_BYTES = Buffer.from(STOP_REQUEST, "latin1");
const EMPTY = Buffer.alloc(0);
// Stream bits PHP's waitPayload skips: nothing a TCP worker acts on.
const SKIPPED_BYTE10 = Byte10.PONG | Byte10.STOP;

/**
 * A RoadRunner worker: PHP's `Spiral\RoadRunner\Worker`.
 *
 * One request at a time: after {@link waitPayload} returns a payload, the server waits for
 * exactly one reply ({@link respond}, {@link error} or {@link stop}) before it sends anything else.
 */
export class Worker {
  /** The relay to the server. */
  readonly relay: Relay;
  readonly #pid: number;
  readonly #abilities: WorkerAbilities;
  #stopped = false;
  #closeReason: Error | undefined;
  // The current request's event id, repeated in its reply; only from rr-tcp, only when this
  // worker said it echoes ids.
  #eventId: number | undefined;

  constructor(relay: Relay, options: WorkerOptions = {}) {
    this.relay = relay;
    this.#pid = options.pid ?? process.pid;
    this.#abilities = options.abilities ?? {};
  }

  /**
   * Connects to the server named by `RR_RELAY` in `env`: `pipes` (the default; stdin and stdout,
   * with the process's own stdout writes sent to stderr from then on), `tcp://host:port` or
   * `unix:///path/to.sock`. On pipes `options.mode` says how they are read: through the event loop
   * (the default), or with blocking reads and writes ({@link PipeRelay}; then read with
   * {@link waitPayloadSync}, or {@link waitPayload}, which blocks just the same).
   *
   * @throws RelayAddressError for an unknown `RR_RELAY`, RelayConnectError if the socket cannot be reached.
   */
  static async create(env: NodeJS.ProcessEnv = process.env, options: WorkerOptions = {}): Promise<Worker> {
    // PHP's default too: RoadRunner sets RR_RELAY, a worker started by hand gets pipes.
    const address = parseRelayAddress(env.RR_RELAY || "pipes");
    exitWhenOrphaned();
    if (address.kind !== "pipes") return new Worker(await connectRelay(address), options);
    const output = guardStdout().relayOutput;
    // Blocking mode must not touch process.stdin: opening it makes fd 0 non-blocking.
    if (options.mode === "blocking") return new Worker(new PipeRelay({ output }), options);
    return new Worker(await connectRelay(address, { input: process.stdin, output }), options);
  }

  /** True once the server sent the stop command. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** True once the relay is closed (stopped and closed, or the server went away). */
  get isClosed(): boolean {
    return this.relay.isClosed;
  }

  /** Why the relay closed when the server went away (end of stream, reset), if it did. */
  get closeReason(): Error | undefined {
    return this.#closeReason;
  }

  /**
   * The next request. Answers the server's pid requests itself, with this process's pid and the
   * CONTROL flag alone (0x01), as PHP does.
   *
   * @returns the payload, or null when the server sent the stop command or went away (end of
   *   the relay): either way the worker should finish. After a stop command the relay closes at
   *   the end of the current turn, so a last frame must be sent at once (as TcpWorker's CLOSE is).
   * @throws FrameError for a malformed frame (bad CRC, truncated at end of stream, ...),
   *   WorkerError UNKNOWN_CONTROL for a control frame that is neither pid nor stop.
   */
  async waitPayload(): Promise<Payload | null> {
    for (;;) {
      let frame: Frame;
      try {
        frame = await this.relay.receive();
      } catch (err) {
        if (this.#ended(err)) return null;
        throw err;
      }
      const payload = this.#accept(frame);
      if (payload !== SKIP) return payload;
    }
  }

  /**
   * {@link waitPayload} with a blocking read, for a worker created in blocking mode: returns
   * without a turn of the event loop.
   *
   * @throws WouldBlock (pipe-relay.ts) when fd 0 turned out non-blocking: nothing was lost, go on
   *   with {@link waitPayload}; and the errors of {@link waitPayload}.
   */
  waitPayloadSync(): Payload | null {
    const relay = this.relay;
    if (!(relay instanceof PipeRelay)) {
      throw new TypeError("waitPayloadSync() needs the blocking pipes relay (Worker.create with mode: 'blocking')");
    }
    for (;;) {
      let frame: Frame | null;
      try {
        frame = relay.receiveSync();
      } catch (err) {
        if (this.#ended(err)) return null;
        throw err;
      }
      if (frame === null) {
        this.#ended(relay.closeReason);
        return null;
      }
      const payload = this.#accept(frame);
      if (payload !== SKIP) return payload;
    }
  }

  // A clean end of the relay means the server is gone; a frame error is bad input.
  #ended(err: unknown): boolean {
    if (!(err instanceof RelayClosedError)) return false;
    this.#closeReason = err;
    return true;
  }

  // What a received frame means: a payload, null for a stop command, SKIP for a frame answered
  // here (pid request) or ignored (stream bits).
  #accept(frame: Frame): Payload | null | typeof SKIP {
    if ((frame.flags & FrameFlag.CONTROL) !== 0) {
      if (this.#control(frame)) return SKIP;
      this.#stopped = true;
      // Nothing more will arrive: close the relay at the end of this turn, so the process can
      // end as a PHP worker's script does, even if the caller never closes it. Frames sent
      // before then (TcpWorker's trailing CLOSE) are still written.
      setImmediate(() => this.close());
      return null;
    }
    if ((frame.flags & FrameFlag.ERROR) !== 0) {
      throw new WorkerError(
        "UNEXPECTED_ERROR_FRAME",
        `the server sent an ERROR frame (flags 0x${hex2(frame.flags)}): ${quote(frame.payload)}`,
      );
    }
    if ((frame.byte10 & SKIPPED_BYTE10) !== 0) return SKIP;
    // A second option is an event id only when this worker offered to echo them; otherwise
    // the frame is malformed, as RoadRunner's side would say.
    const withEventId = this.#abilities.echoEventId === true && frame.options.length === 2;
    const { context, body } = splitPayload(frame, withEventId);
    this.#eventId = withEventId ? eventIdOf(frame) : undefined;
    return { context, body, flags: frame.flags };
  }

  /**
   * Sends a reply payload frame: options `[context length]` (and the request's event id, when
   * rr-tcp sent one), payload `context ‖ body`.
   */
  respond(payload: PayloadInit): void {
    const relay = this.relay;
    if (relay instanceof PipeRelay) relay.sendPayload(payload.context, payload.body, payload.flags ?? 0, this.#eventId);
    else relay.send(encodePayloadFrame(payload.context, payload.body, payload.flags ?? 0, 0, this.#eventId));
  }

  /**
   * Fails the current request with an ERROR frame (0x40). RoadRunner logs the message and keeps
   * this worker; for TCP it closes the client connection.
   */
  error(message: string): void {
    this.relay.send(encodeErrorFrame(message, this.#eventId));
  }

  /**
   * Asks to be replaced, as the reply to the current request: RoadRunner stops this worker and
   * runs the same request on another one.
   */
  stop(): void {
    this.relay.send(encodePayloadFrame(STOP_REQUEST_BYTES, EMPTY, 0, 0, this.#eventId));
  }

  /** Closes the relay after the frames already sent are written. Idempotent. */
  close(): void {
    this.relay.close();
  }

  // Handles a control frame; true for a pid request (answered), false for stop.
  #control(frame: Frame): boolean {
    const message = parseControl(frame);
    // PHP tests truthiness: {"pid":0} or {"stop":false} are not commands.
    if (message.pid) {
      this.relay.send(encodePidReply(this.#pid, this.#abilities));
      return true;
    }
    if (message.stop) return false;
    throw new WorkerError(
      "UNKNOWN_CONTROL",
      `unknown control command from the server (neither pid nor stop): ${quote(frame.payload)}`,
    );
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

// Bounded, so a flood of junk does not flood the log.
function quote(bytes: Buffer): string {
  const text = bytes.toString("utf8", 0, Math.min(bytes.length, 200));
  return JSON.stringify(text) + (bytes.length > 200 ? "..." : "");
}
