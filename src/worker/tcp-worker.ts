/**
 * PHP's `Spiral\RoadRunner\Tcp\TcpWorker` for TypeScript: requests are TCP events, replies are
 * verbs. Adds the idiomatic forms: `for await (const request of tcpWorker)` and `serve(handler)`.
 */
import { RelayClosedError, type WorkerAbilities } from "../relay/index.js";
import { TcpResponse, eventName, verbBytes } from "../protocol/index.js";
import { WorkerError } from "./errors.js";
import type { Payload } from "./payload.js";
import { replyOf, type Reply, type ReplyBody } from "./reply.js";
import { Request } from "./request.js";
import { PipeRelay, WouldBlock } from "./pipe-relay.js";
import { Worker, type RelayMode } from "./worker.js";

/**
 * Handles one event. Its return value is the reply (see {@link Reply}); a handler may instead
 * answer itself through `worker` (`respond`, `read`, `close`, `stop`, `error`). A throw sends an
 * ERROR frame with the error's message and the worker goes on serving.
 */
export type Handler = (request: Request, worker: TcpWorker) => Reply | Promise<Reply>;

const EMPTY = Buffer.alloc(0);

/**
 * What a TcpWorker says in its pid reply: it reads both context codecs (contextCodecForFlags picks
 * by the frame's flags), and it echoes event ids, so that rr-tcp can tell a reply to another event
 * from this one's. RoadRunner ignores both and sends neither.
 */
const TCP_WORKER_ABILITIES: WorkerAbilities = { contextCodecs: ["proto"], echoEventId: true };

/**
 * A TCP worker. Every request gets exactly one reply, the CLOSE event included (RoadRunner waits
 * for it): a request still unanswered when the next one is asked for is answered with CONTINUE.
 */

export class TcpWorker implements AsyncIterable<Request> {
  /** The underlying worker (PHP: `getWorker()`). */
  readonly worker: Worker;
  // The request the server is waiting on a reply for.
  #pending: Request | null = null;

  constructor(worker: Worker) {
    this.worker = worker;
  }

  /**
   * A TcpWorker on {@link Worker.create}'s relay (`RR_RELAY` in `env`). Its pid reply says it
   * reads protobuf contexts, so rr-tcp with `context_codec: proto` sends them to it.
   */
  static async create(env: NodeJS.ProcessEnv = process.env, options: { mode?: RelayMode } = {}): Promise<TcpWorker> {
    const mode = options.mode ?? "event-loop";
    return new TcpWorker(await Worker.create(env, { abilities: TCP_WORKER_ABILITIES, mode }));
  }

  /** The request waiting for a reply, if any. */
  get pending(): Request | null {
    return this.#pending;
  }

  /**
   * The next event.
   *
   * @returns the request, or null when the worker should finish: after the server's stop command
   *   (a CLOSE frame is then sent and the relay closed, as PHP's `waitRequest()` does) or when
   *   the server went away.
   * @throws FrameError for a malformed frame, WorkerError UNKNOWN_CONTROL, ContextDecodeError for
   *   a context that does not decode (invalid JSON, bad protobuf; that request is first failed
   *   with an ERROR frame).
   */
  async waitRequest(): Promise<Request | null> {
    this.#answerPending();
    return this.#toRequest(await this.worker.waitPayload());
  }

  /**
   * {@link waitRequest} with a blocking read (a worker created with `mode: "blocking"`): no turn
   * of the event loop, no promise.
   *
   * @throws WouldBlock (pipe-relay.ts) when fd 0 turned out non-blocking: go on with
   *   {@link waitRequest}; and the errors of {@link waitRequest}.
   */
  waitRequestSync(): Request | null {
    this.#answerPending();
    return this.#toRequest(this.worker.waitPayloadSync());
  }

  // The server sends nothing until it has a reply: asking for the next request without one
  // would deadlock both sides.
  #answerPending(): void {
    if (this.#pending !== null) {
      if (this.worker.isClosed) this.#pending = null;
      else this.read();
    }
  }

  #toRequest(payload: Payload | null): Request | null {
    if (payload === null) {
      if (this.worker.stopped && !this.worker.isClosed) {
        // PHP's TcpWorker sends CLOSE here; RoadRunner ignores it, but byte-compatibility is cheap.
        this.worker.respond({ context: verbBytes(TcpResponse.CLOSE), body: EMPTY });
        this.worker.close();
      }
      return null;
    }
    let request: Request;
    try {
      request = Request.fromPayload(payload);
    } catch (err) {
      // The server waits for a reply to this frame too: fail it, so a caller that catches the
      // error and goes on is still in step with the server.
      this.worker.error(`the worker could not decode the request context: ${(err as Error).message}`);
      throw err;
    }
    this.#pending = request;
    return request;
  }

  /**
   * Answers the pending request. PHP: `respond($body, $response = TcpResponse::Respond)`.
   *
   * @param verb WRITE (default), WRITECLOSE, CONTINUE or CLOSE; the body is written only by WRITE
   *   and WRITECLOSE.
   * @throws WorkerError REPLY_WITHOUT_REQUEST if no request is waiting for a reply.
   */
  respond(body: ReplyBody, verb: TcpResponse = TcpResponse.WRITE): void {
    const context = verbBytes(verb);
    this.#take();
    this.worker.respond({ context, body: typeof body === "string" ? Buffer.from(body, "utf8") : body });
  }

  /** Keeps reading the connection, writes nothing (CONTINUE). PHP: `read()`. */
  read(): void {
    this.respond(EMPTY, TcpResponse.CONTINUE);
  }

  /** Closes the connection (CLOSE). PHP: `close()`. */
  close(): void {
    this.respond(EMPTY, TcpResponse.CLOSE);
  }

  /** Fails the pending request with an ERROR frame; RoadRunner closes the connection, keeps the worker. */
  error(message: string): void {
    this.#take();
    this.worker.error(message);
  }

  /**
   * Answers the pending request by asking to be replaced: RoadRunner stops this worker and runs
   * the same event on another one.
   */
  stop(): void {
    this.#take();
    this.worker.stop();
  }

  /** Yields requests until the worker should finish; each must be answered before the next. */
  async *[Symbol.asyncIterator](): AsyncIterator<Request> {
    for (;;) {
      const request = await this.waitRequest();
      if (request === null) return;
      yield request;
    }
  }

  /**
   * Serves events with `handler` until the server stops this worker or goes away.
   *
   * @returns when the worker should exit cleanly.
   * @throws on bad input from the server (see {@link waitRequest}): the worker cannot go on.
   */
  async serve(handler: Handler): Promise<void> {
    try {
      const relay = this.worker.relay;
      if (relay instanceof PipeRelay && !relay.isEventLoop) {
        if (await this.#serveBlocking(handler, relay)) return;
        process.stderr.write(
          `rr-tcp worker pid ${process.pid}: stdin is non-blocking (something opened process.stdin?); ` +
            "serving in event-loop mode from now on\n",
        );
      }
      for (;;) {
        const request = await this.waitRequest();
        if (request === null) return;
        const handled = this.#handle(handler, request);
        if (handled !== undefined) await handled;
      }
    } catch (err) {
      // The server went away while a reply was being written: nothing left to serve.
      if (err instanceof RelayClosedError) return;
      throw err;
    }
  }

  // The blocking loop: read, handle, write, with the event loop run only while a handler's
  // promise is pending (or a reply waits for room in the pipe). True when the worker should
  // finish; false if fd 0 turned out non-blocking (the caller goes on in event-loop mode).
  async #serveBlocking(handler: Handler, relay: PipeRelay): Promise<boolean> {
    for (;;) {
      let request: Request | null;
      try {
        request = this.waitRequestSync();
      } catch (err) {
        if (err instanceof WouldBlock) return false;
        throw err;
      }
      if (request === null) return true;
      const handled = this.#handle(handler, request);
      if (handled !== undefined) await handled;
      // Before sleeping in the next read, whatever must reach the server or the log has to be
      // out: the event loop does not run while the read blocks.
      const flushing = relay.flushing;
      if (flushing !== undefined) await flushing;
      if (process.stderr.writableNeedDrain) await drained(process.stderr);
    }
  }

  // Runs the handler on one request and sends its reply; a promise only when the handler
  // returned one (an async handler), so a synchronous handler costs no turn of the microtask queue.
  #handle(handler: Handler, request: Request): Promise<void> | undefined {
    let result: Reply | Promise<Reply>;
    try {
      result = handler(request, this);
    } catch (err) {
      this.#handlerFailed(request, err);
      return undefined;
    }
    if (!isPromiseLike(result)) {
      this.#answer(request, result);
      return undefined;
    }
    return Promise.resolve(result).then(
      (reply) => this.#answer(request, reply),
      (err: unknown) => this.#handlerFailed(request, err),
    );
  }

  #answer(request: Request, reply: Reply): void {
    // Answered by the handler itself.
    if (this.#pending !== request) return;
    let verb: TcpResponse;
    let body: ReplyBody;
    try {
      ({ verb, body } = replyOf(reply));
    } catch (err) {
      this.#handlerFailed(request, err);
      return;
    }
    this.respond(body, verb);
  }

  // Marks the pending request answered; the caller sends the reply.
  #take(): void {
    if (this.#pending === null) {
      throw new WorkerError(
        "REPLY_WITHOUT_REQUEST",
        "no request is waiting for a reply: the server would read this frame as the reply to its next event",
      );
    }
    this.#pending = null;
  }

  #handlerFailed(request: Request, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    // The stack goes to stderr (RoadRunner logs it); only the message travels in the frame.
    process.stderr.write(
      `rr-tcp worker pid ${process.pid}: handler failed on ${eventName(request.event)} of connection ` +
        `${request.connectionUuid}: ${err instanceof Error ? (err.stack ?? message) : message}\n`,
    );
    if (this.#pending === request) this.error(message);
  }
}

// Resolves once `stream` has room again, or can take no more (closed, failed).
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<Reply> {
  return typeof (value as PromiseLike<Reply> | null)?.then === "function";
}
