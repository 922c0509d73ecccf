/**
 * One client connection: its events and its socket.
 *
 * A state machine: the state changes only in `#enter`, which checks the move against
 * {@link CONNECTION_TRANSITIONS}. What the socket itself knows (the client's FIN:
 * `readableEnded`; reset or closed: `destroyed`) is read from it, never copied.
 *
 * ```
 *               +-------------reply (WRITE, CONTINUE)-------------+
 *               v                                                 |
 *   connecting --reply--> reading --message--> waiting -----------+
 *       |                  |   ^                  |
 *       |                  |   | 'drain'          |
 *       |                  v   |                  |
 *       |              awaitingDrain              |
 *       |  closeWhenIdle                          |  closeWhenIdle
 *       +------------------> lastEvent <----------+
 *       |  closeNow             | closeNow        |  closeNow
 *       +------------------> cutOff <-------------+
 *   every state but done --close()--> closing --CLOSE reply--> done
 * ```
 *
 * - connecting: CONNECTED is with a worker.
 * - reading: waiting for client bytes; the socket is read only here (and in awaitingDrain).
 * - awaitingDrain: reading, but the client does not read its replies: its socket is paused until
 *   its write buffer drains, so TCP back-pressure reaches the client.
 * - waiting: a DATA event is with a worker.
 * - lastEvent: an event is with a worker and the connection closes once it is answered; its WRITE
 *   is still written (graceful shutdown).
 * - cutOff: an event is with a worker, but the socket is already closed (tcp.Close, the buffer
 *   budget): its reply is dropped, then the connection closes.
 * - closing: the socket is closed and the CLOSE event is with a worker.
 * - done: the CLOSE event was answered (or failed); final.
 *
 * - Exactly one CLOSE event, always last: `close()` is the only path to `closing`, and runs once.
 * - The socket is paused in every state but `reading` (lazily: once a read arrives outside it).
 * - The three request contexts never change, so they are encoded once per connection.
 * - Pushes (tcp.Write, tcp.WriteClose, tcp.Broadcast) are written at once in reading and
 *   awaitingDrain; in connecting and waiting they wait for the event's reply and follow it.
 */
import type { Socket } from "node:net";
import type { Logger } from "pino";
import type { ConnectionInfo } from "../../gen/ts/rr/tcp/v1/control.js";
import { RequestContext, TcpEvent, TcpResponse } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { errorCode, RrTcpError } from "../errors.js";
import { msToDuration, verbFromBytes, type ContextCodec } from "../protocol/index.js";
import type { EventPool, EventReply, EventRequest } from "./event-pool.js";
import type { BufferBudget } from "./buffer-budget.js";
import { MessageTooLargeError, type Framer } from "./framer.js";
import { PushError, type PushOutcome, type QueuedPush } from "./push.js";
import { newServerCounters, type EventKind, type ReplyKind, type ServerCounters } from "./server-counters.js";
import type { EventTimings } from "./server-observer.js";

/** Why a connection was closed; logged, reported to `onDone`, and the label of its counter. */
export const CLOSE_REASONS = [
  /** The client half-closed (FIN) and everything it sent was delivered. */
  "CLIENT_EOF",
  /** The socket failed or was reset by the client. */
  "CLIENT_RESET",
  /** The worker answered CLOSE. */
  "VERB_CLOSE",
  /** The worker answered WRITECLOSE. */
  "VERB_WRITECLOSE",
  /** The worker answered with a verb that is none of the four. */
  "UNKNOWN_VERB",
  /** `closeConnection(uuid)` (RoadRunner's tcp.Close RPC), or a push that closes (tcp.WriteClose). */
  "CLOSED_BY_SERVER",
  /** No client bytes for idle_timeout. */
  "IDLE_TIMEOUT",
  /** A message longer than max_message_size. */
  "MESSAGE_TOO_LARGE",
  /** All connections together held more than tcp.max_buffered_bytes, this one the most. */
  "BUFFER_BUDGET",
  /** The event failed in the pool: worker ERROR frame, crash, bad frame, exec_ttl, no worker... */
  "EXEC_FAILED",
  /** Graceful shutdown. */
  "SHUTDOWN",
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** The states of a connection; see the module comment. */
export type ConnectionState =
  "connecting" | "reading" | "awaitingDrain" | "waiting" | "lastEvent" | "cutOff" | "closing" | "done";

/** The moves allowed from each state. */
export const CONNECTION_TRANSITIONS: { readonly [From in ConnectionState]: readonly ConnectionState[] } = {
  connecting: ["reading", "lastEvent", "cutOff", "closing"],
  reading: ["awaitingDrain", "waiting", "closing"],
  awaitingDrain: ["reading", "closing"],
  waiting: ["reading", "lastEvent", "cutOff", "closing"],
  lastEvent: ["cutOff", "closing"],
  cutOff: ["closing"],
  closing: ["done"],
  done: [],
};

/** A move the table does not allow was attempted: a bug in rr-tcp, never the client's doing. */
export class ConnectionStateError extends RrTcpError<"ILLEGAL_TRANSITION"> {
  readonly from: ConnectionState;
  readonly to: ConnectionState;

  constructor(uuid: string, from: ConnectionState, to: ConnectionState) {
    super("ILLEGAL_TRANSITION", `connection ${uuid} cannot move from ${from} to ${to}`, { uuid });
    this.from = from;
    this.to = to;
  }
}

/** What a connection is given by its server. */
export interface ConnectionOptions {
  readonly socket: Socket;
  /** The server's name (the context's `server`). */
  readonly server: string;
  /** A random v4 uuid, lower case. */
  readonly uuid: string;
  /** The peer as RoadRunner prints it (`ip:port`, `[::1]:port`; empty for unix sockets). */
  readonly remoteAddr: string;
  readonly pool: EventPool;
  readonly codec: ContextCodec;
  readonly framer: Framer;
  /** The bytes all connections may hold from their clients (tcp.max_buffered_bytes). */
  readonly budget?: BufferBudget<Connection>;
  /** routing: sticky. */
  readonly sticky: boolean;
  /** Milliseconds without client bytes before the connection is closed; 0 = never. */
  readonly idleTimeoutMs: number;
  /** Its server's counters, which it adds to; its own when not given. */
  readonly counters?: ServerCounters;
  /** Where its events' timings go; without it no clock is read per event. */
  readonly timings?: EventTimings | undefined;
  readonly logger: Logger;
  /** Called once, after the CLOSE event's reply (or its failure). */
  readonly onDone: (connection: Connection, reason: CloseReason) => void;
}

const EMPTY = Buffer.alloc(0);
/** How long a closed socket may take to flush its last bytes before it is destroyed. */
const CLOSE_LINGER_MS = 5_000;

export class Connection {
  readonly uuid: string;
  readonly server: string;
  readonly remoteAddr: string;
  #state: ConnectionState = "connecting";
  /** Why it closes: set on the way to `closing` (lastEvent, cutOff) or on entering it. */
  #reason: CloseReason | undefined;

  readonly #socket: Socket;
  readonly #pool: EventPool;
  readonly #framer: Framer;
  readonly #logger: Logger;
  readonly #options: ConnectionOptions;
  readonly #connected: Buffer;
  readonly #data: Buffer;
  readonly #closed: Buffer;
  /** The one request object of this connection, refilled for each event. */
  readonly #request: EventRequest;

  #idleTimer: NodeJS.Timeout | undefined;
  #lastActivity = 0;

  readonly #counters: ServerCounters;
  readonly #timings: EventTimings | undefined;
  /** When it was made (ms since the epoch), for its age. */
  readonly #openedAt = Date.now();
  #bytesReceived = 0;
  #bytesSent = 0;
  /** performance.now() when the event with the pool was sent, and when it reached a worker (0: not yet). */
  #sentAt = 0;
  #workerAt = 0;
  /** Pushes waiting for the reply of the event that is with a worker, oldest first. */
  #pushes: QueuedPush[] = [];
  #pushedBytes = 0;
  /** A WriteClose waits among them: nothing more is taken. */
  #closeAfterPushes = false;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.uuid = options.uuid;
    this.server = options.server;
    this.remoteAddr = options.remoteAddr;
    this.#socket = options.socket;
    this.#pool = options.pool;
    this.#framer = options.framer;
    this.#logger = options.logger;
    this.#counters = options.counters ?? newServerCounters();
    this.#timings = options.timings;
    const context = RequestContext.create({
      remote_addr: options.remoteAddr,
      server: options.server,
      uuid: options.uuid,
    });
    this.#connected = options.codec.encode({ ...context, event: TcpEvent.CONNECTED });
    this.#data = options.codec.encode({ ...context, event: TcpEvent.DATA });
    this.#closed = options.codec.encode({ ...context, event: TcpEvent.CLOSE });
    this.#request = {
      context: this.#connected,
      body: EMPTY,
      flags: options.codec.frameFlags,
      preferPid: undefined,
      onWorker: this.#timings === undefined ? undefined : this.#onWorker,
    };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Why the connection closed, once it did. */
  get closeReason(): CloseReason | undefined {
    return this.#state === "closing" || this.#state === "done" ? this.#reason : undefined;
  }

  /** Bytes of memory the client's unfinished messages keep alive here. */
  get retainedBytes(): number {
    return this.#framer.retained;
  }

  /** The connection as `tcp.Connections` lists it, its age at `now` (ms since the epoch). */
  info(now: number): ConnectionInfo {
    return {
      uuid: this.uuid,
      server: this.server,
      remote_addr: this.remoteAddr,
      age: msToDuration(Math.max(0, now - this.#openedAt)),
      bytes_received: this.#bytesReceived,
      bytes_sent: this.#bytesSent,
      // A cluster's listing names the holder (src/cluster); one server alone has no instance.
      instance: "",
    };
  }

  /** Starts the connection: sends CONNECTED before reading anything. */
  start(): void {
    const socket = this.#socket;
    // Paused before the 'data' listener is added, so adding it does not start the flow.
    socket.pause();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onSocketClose);
    socket.on("drain", this.#onDrain);
    if (this.#options.idleTimeoutMs > 0) {
      this.#lastActivity = Date.now();
      this.#idleTimer = setTimeout(this.#onIdleTimer, this.#options.idleTimeoutMs).unref();
    }
    this.#logger.debug({ uuid: this.uuid, server: this.server, remote_addr: this.remoteAddr }, "connection opened");
    this.#send("connected", EMPTY);
  }

  /**
   * Writes `data` to the client from outside its events (tcp.Write; with `close`, tcp.WriteClose:
   * the connection then closes, with its CLOSE event). While an event is with a worker the bytes
   * wait and follow its reply, so a push never lands before the reply of an event it came during.
   *
   * Bounded as replies are: the server reads no new event from a client whose unsent bytes are
   * at its socket's high-water mark, and takes no push for it either. Unsent bytes are the
   * socket's write buffer and the pushes waiting here, so a client that never reads holds at
   * most the mark plus one push (and one reply). The push is refused, not queued: the caller
   * learns at once and may retry, drop it, or close the connection.
   *
   * @throws PushError CONNECTION_CLOSING once the connection is on its way out, CLIENT_NOT_READING
   *   at the high-water mark; nothing is written then.
   */
  push(data: Buffer, close: boolean): PushOutcome {
    const state = this.#state;
    const held = state === "connecting" || state === "waiting";
    const facts = { uuid: this.uuid, server: this.server };
    if ((!held && state !== "reading" && state !== "awaitingDrain") || this.#closeAfterPushes || !this.#writable()) {
      this.#counters.pushes.closing++;
      throw new PushError(
        "CONNECTION_CLOSING",
        `connection ${this.uuid} is closing: nothing more is written to it`,
        facts,
      );
    }
    const unsent = this.#socket.writableLength + this.#pushedBytes;
    const mark = this.#socket.writableHighWaterMark;
    if (unsent >= mark) {
      this.#counters.pushes.not_reading++;
      throw new PushError(
        "CLIENT_NOT_READING",
        `the client of connection ${this.uuid} does not read: ${unsent} bytes to it are unsent, at or over its socket's high-water mark of ${mark}; push again once it reads`,
        facts,
      );
    }
    this.#counters.pushes.taken++;
    this.#counters.bytesPushed += data.length;
    if (held) {
      this.#pushes.push({ data, close });
      this.#pushedBytes += data.length;
      this.#closeAfterPushes = close;
      return { written: false, closing: close };
    }
    this.#write(data, close);
    if (close) this.#close("CLOSED_BY_SERVER");
    return { written: true, closing: close };
  }

  /**
   * Closes the connection now (RoadRunner's tcp.Close): the socket is closed at once; the CLOSE
   * event follows, after the reply to an event that is with a worker (whose WRITE is dropped).
   */
  closeNow(reason: CloseReason = "CLOSED_BY_SERVER"): void {
    const outcome = this.#requestClose(reason);
    // A connection already closing after its event (lastEvent) is still cut off now.
    if (outcome === "closed" || (outcome === "underWay" && this.#state !== "lastEvent")) return;
    this.#enter("cutOff");
    this.#endSocket();
  }

  /**
   * Closes the connection once the event that is with a worker is answered (its WRITE is still
   * written), or now when none is: graceful shutdown.
   */
  closeWhenIdle(reason: CloseReason = "SHUTDOWN"): void {
    if (this.#requestClose(reason) === "afterEvent") this.#enter("lastEvent");
  }

  /**
   * Where a request to close stands: done at once when no event is with a worker (`closed`);
   * to follow the event that is, with `reason` recorded (`afterEvent`); or already on its way
   * out, where the first reason stands (`underWay`).
   */
  #requestClose(reason: CloseReason): "closed" | "afterEvent" | "underWay" {
    switch (this.#state) {
      case "reading":
      case "awaitingDrain":
        this.#close(reason);
        return "closed";
      case "connecting":
      case "waiting":
        this.#reason = reason;
        return "afterEvent";
      default:
        return "underWay";
    }
  }

  /** Destroys the socket at once (shutdown past its deadline); the events still end with CLOSE. */
  destroySocket(): void {
    this.#socket.destroy();
  }

  /**
   * The one place the state changes, checked against the table.
   *
   * @throws ConnectionStateError ILLEGAL_TRANSITION for a move the table does not allow.
   */
  #enter(to: ConnectionState): void {
    if (!CONNECTION_TRANSITIONS[this.#state].includes(to)) {
      throw new ConnectionStateError(this.uuid, this.#state, to);
    }
    this.#state = to;
  }

  #send(kind: EventKind, body: Buffer): void {
    const request = this.#request;
    request.context = kind === "data" ? this.#data : kind === "connected" ? this.#connected : this.#closed;
    request.body = body;
    this.#counters.events[kind]++;
    if (this.#timings !== undefined) {
      this.#sentAt = performance.now();
      this.#workerAt = 0;
    }
    let reply: Promise<EventReply>;
    try {
      reply = this.#pool.exec(request);
    } catch (err) {
      // A pool that throws instead of rejecting: the same failure, one turn later.
      reply = Promise.reject(err);
    }
    reply.then(this.#onReply, this.#onExecFailed);
  }

  // The pool sent the event to a worker: its wait for one is over.
  readonly #onWorker = (): void => {
    this.#workerAt = performance.now();
  };

  /** The event with the pool was answered (`kind`), or failed (`error`): counted and timed. */
  #answered(kind: ReplyKind): void {
    this.#counters.replies[kind]++;
    const timings = this.#timings;
    if (timings === undefined) return;
    const now = performance.now();
    const atWorker = this.#workerAt;
    if (atWorker === 0) timings.observe((now - this.#sentAt) / 1000, undefined);
    else timings.observe((atWorker - this.#sentAt) / 1000, (now - atWorker) / 1000);
  }

  readonly #onReply = (reply: EventReply): void => {
    const verb = verbFromBytes(reply.context);
    this.#answered(REPLY_KIND[verb] ?? "unknown");
    const state = this.#state;
    if (state === "closing") return this.#finish();
    if (state !== "connecting" && state !== "waiting" && state !== "lastEvent" && state !== "cutOff") return;
    if (this.#options.sticky) this.#request.preferPid = reply.pid;
    switch (verb) {
      case TcpResponse.WRITE:
        if (reply.body.length > 0 && this.#writable()) this.#write(reply.body, false);
        return this.#afterEvent();
      case TcpResponse.CONTINUE:
        return this.#afterEvent();
      case TcpResponse.WRITECLOSE:
        if (this.#writable()) this.#write(reply.body, true);
        return this.#close("VERB_WRITECLOSE");
      case TcpResponse.CLOSE:
        return this.#close("VERB_CLOSE");
      default:
        this.#logger.warn(
          { uuid: this.uuid, server: this.server, verb: printable(reply.context), pid: reply.pid },
          `unknown verb ${JSON.stringify(printable(reply.context))} from worker ${reply.pid}: closing the connection as for CLOSE`,
        );
        return this.#close("UNKNOWN_VERB");
    }
  };

  readonly #onExecFailed = (err: unknown): void => {
    this.#answered("error");
    const state = this.#state;
    if (state === "closing") {
      this.#logger[errorCode(err) === "POOL_CLOSED" ? "debug" : "warn"](
        { uuid: this.uuid, server: this.server, err },
        "the CLOSE event failed",
      );
      return this.#finish();
    }
    if (state === "done") return;
    const error = RrTcpError.from(err);
    this.#logger.warn(
      { uuid: this.uuid, server: this.server, code: error.code, pid: error.pid, err },
      `event failed (${error.code}): closing the connection`,
    );
    this.#close("EXEC_FAILED");
  };

  /** After WRITE or CONTINUE: the pushes that waited, then read on, unless a close was asked for meanwhile. */
  #afterEvent(): void {
    const closeAfterPushes = this.#flushPushes();
    if (this.#state === "lastEvent" || this.#state === "cutOff") return this.#close(this.#reason as CloseReason);
    if (closeAfterPushes) return this.#close("CLOSED_BY_SERVER");
    this.#enter("reading");
    this.#lastActivity = Date.now();
    this.#pump();
  }

  /** In `reading`: hand the next message to a worker, or read more, or close at EOF. */
  #pump(): void {
    if (this.#state !== "reading" && this.#state !== "awaitingDrain") return;
    const socket = this.#socket;
    if (!socket.destroyed && socket.writableNeedDrain) {
      // The client does not read its replies: read nothing more until it does.
      if (this.#state === "reading") this.#enter("awaitingDrain");
      socket.pause();
      return;
    }
    if (this.#state === "awaitingDrain") this.#enter("reading");
    // A reset socket: its unread messages have no one to answer to.
    if (socket.destroyed && !socket.readableEnded) return this.#close("CLIENT_RESET");
    let message: Buffer | undefined;
    try {
      message = this.#framer.next();
    } catch (err) {
      if (!(err instanceof MessageTooLargeError)) throw err;
      this.#logger.warn(
        { uuid: this.uuid, server: this.server, size: err.size, limit: err.limit },
        `closing the connection: ${err.message}`,
      );
      return this.#close("MESSAGE_TOO_LARGE");
    }
    this.#options.budget?.hold(this, this.#framer.buffered);
    // Over the shared budget, this connection may just have been closed for holding the most.
    if (this.#state !== "reading") return;
    if (message !== undefined) {
      // The socket stays flowing: pausing and resuming it around every event costs two
      // syscalls per event. Bytes that do arrive meanwhile pause it then (#onData), so at most
      // one read is buffered beyond the message with the worker.
      this.#enter("waiting");
      return this.#send("data", message);
    }
    if (socket.readableEnded) {
      // At client EOF, bytes that never completed a message are the last DATA event.
      const rest = this.#framer.finish();
      if (rest !== undefined) {
        this.#enter("waiting");
        return this.#send("data", rest);
      }
      return this.#close("CLIENT_EOF");
    }
    socket.resume();
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#bytesReceived += chunk.length;
    this.#counters.bytesReceived += chunk.length;
    // Lingering close, or closed while the worker has its event (tcp.Close, evicted by the
    // budget): what the client still sends is read and dropped, never held.
    const state = this.#state;
    if (state === "lastEvent" || state === "cutOff" || state === "closing" || state === "done") return;
    this.#framer.push(chunk);
    if (this.#idleTimer !== undefined) this.#lastActivity = Date.now();
    if (state === "reading" || state === "awaitingDrain") return this.#pump();
    this.#socket.pause();
    // Held while the worker has this connection's event: counts against the shared budget too.
    this.#options.budget?.hold(this, this.#framer.buffered);
  };

  // The socket now says `readableEnded`.
  readonly #onEnd = (): void => {
    this.#pump();
  };

  // The socket is `destroyed` by now; its 'close' follows.
  readonly #onError = (err: Error & { code?: string }): void => {
    this.#logger.debug({ uuid: this.uuid, server: this.server, code: err.code, err }, "socket error");
  };

  // Unread messages of a reset client are dropped, a closed one's EOF acted on (#pump).
  readonly #onSocketClose = (): void => {
    this.#pump();
  };

  readonly #onDrain = (): void => {
    if (this.#state === "awaitingDrain") this.#pump();
  };

  readonly #onIdleTimer = (): void => {
    this.#idleTimer = undefined;
    const limit = this.#options.idleTimeoutMs;
    if (this.#state === "closing" || this.#state === "done") return;
    // Only time spent waiting for the client counts; a worker's time does not.
    const reading = this.#state === "reading" || this.#state === "awaitingDrain";
    const idle = reading ? Date.now() - this.#lastActivity : 0;
    if (idle >= limit) {
      this.#logger.debug({ uuid: this.uuid, server: this.server, idle_ms: idle }, "idle timeout");
      return this.#close("IDLE_TIMEOUT");
    }
    this.#idleTimer = setTimeout(this.#onIdleTimer, limit - idle).unref();
  };

  /**
   * Writes the pushes that waited for the reply just written, in order; a cut-off connection's
   * are dropped. @returns true when the last was a WriteClose.
   */
  #flushPushes(): boolean {
    if (this.#pushes.length === 0) return false;
    const pushes = this.#pushes;
    const close = this.#closeAfterPushes;
    this.#pushes = [];
    this.#pushedBytes = 0;
    this.#closeAfterPushes = false;
    if (this.#state === "cutOff" || !this.#writable()) {
      this.#dropped(pushes, "the connection was closed while its event was with a worker");
      return close;
    }
    for (const push of pushes) this.#write(push.data, push.close);
    return close;
  }

  // Pushes taken (the caller was told true) that never reach the client: logged, not silent.
  #dropped(pushes: readonly QueuedPush[], why: string): void {
    const bytes = pushes.reduce((sum, push) => sum + push.data.length, 0);
    this.#logger.debug(
      { uuid: this.uuid, server: this.server, pushes: pushes.length, bytes },
      `${pushes.length} pushed writes (${bytes} bytes) dropped: ${why}`,
    );
  }

  // False once the socket is ended, reset or destroyed.
  #writable(): boolean {
    return this.#socket.writable;
  }

  // A reply's body to the client, counted; `last` ends the socket after it (WRITECLOSE).
  #write(body: Buffer, last: boolean): void {
    this.#bytesSent += body.length;
    this.#counters.bytesSent += body.length;
    if (last) this.#socket.end(body);
    else this.#socket.write(body);
  }

  /**
   * Closes our side of the socket: FIN after the pending writes. Then a lingering close: client
   * bytes still arriving are read and dropped until the client closes its side too (the socket is
   * then released), at most CLOSE_LINGER_MS. Destroying the socket with unread client bytes would
   * send a reset instead of a FIN, and a reset may make the client's system drop the last reply
   * it has not read yet (a WRITECLOSE body). Runs once: on entering cutOff, or closing from
   * another state.
   */
  #endSocket(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (socket.writable) socket.end();
    const linger = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
    socket.once("close", () => clearTimeout(linger));
    // With both directions ended the socket closes by itself (autoDestroy).
    socket.resume();
  }

  /** The one way to `closing`: close the socket, then send the CLOSE event. */
  #close(reason: CloseReason): void {
    const from = this.#state;
    if (from === "closing" || from === "done") return;
    this.#enter("closing");
    this.#reason = reason;
    if (this.#pushes.length > 0) {
      // The event's reply closed the connection (WRITECLOSE, CLOSE), or it failed.
      this.#dropped(this.#pushes, `the connection closed (${reason}) before they could follow its event's reply`);
      this.#pushes = [];
      this.#pushedBytes = 0;
    }
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (from !== "cutOff") this.#endSocket();
    this.#send("close", EMPTY);
  }

  #finish(): void {
    if (this.#state === "done") return;
    this.#enter("done");
    this.#options.budget?.release(this);
    const socket = this.#socket;
    // 'data' stays: it drops what arrives during the lingering close.
    socket.off("end", this.#onEnd);
    socket.off("drain", this.#onDrain);
    socket.off("close", this.#onSocketClose);
    // 'error' stays handled: a late reset must not become an uncaught exception.
    this.#logger.debug({ uuid: this.uuid, server: this.server, reason: this.#reason }, "connection closed");
    this.#options.onDone(this, this.#reason ?? "CLOSED_BY_SERVER");
  }
}

/** The reply counter of each of the four verbs; any other verb counts as `unknown`. */
const REPLY_KIND: Partial<Record<TcpResponse, ReplyKind>> = {
  [TcpResponse.WRITE]: "write",
  [TcpResponse.WRITECLOSE]: "writeclose",
  [TcpResponse.CONTINUE]: "continue",
  [TcpResponse.CLOSE]: "close",
};

/** A verb for the log: printable ASCII, at most 40 characters. */
function printable(bytes: Buffer): string {
  const text = bytes.subarray(0, 40).toString("latin1");
  return text.replace(/[^\x20-\x7e]/g, "?") + (bytes.length > 40 ? "..." : "");
}
