/**
 * What a TCP server needs of a worker pool: one event in, one reply out. The server is written
 * against this interface only (never against src/pool), so tests drive it with any pool and the
 * pool knows nothing of sockets. src/pool's WorkerPool satisfies it structurally.
 */

/** One event for a worker. */
export interface EventRequest {
  /** The encoded request context (JSON or protobuf); the same buffer for every event of a kind. */
  context: Buffer;
  /** The event body: empty for CONNECTED and CLOSE, the message for DATA. */
  body: Buffer;
  /** Frame flags of the context codec (0x00 JSON, 0x80 protobuf). */
  flags: number;
  /** Sticky routing: the pid of the worker that served the connection's previous event. */
  preferPid?: number;
  /**
   * The pool calls it when it has sent the event to a worker (again if the event is re-run on
   * another), so the connection can tell its wait for a worker from the worker's time.
   */
  onWorker?: (() => void) | undefined;
}

/** A worker's reply: the verb bytes as context, and the body. */
export interface EventReply {
  context: Buffer;
  body: Buffer;
  flags: number;
  /** The worker that answered. */
  pid: number;
}

/**
 * Runs events on workers. The pool must not hold on to a request after its promise settled: a
 * connection reuses one request object for all its events.
 */
export interface EventPool {
  /** Resolves with the reply; rejects when the event failed (an Error with a `code`, e.g. PoolError). */
  exec(request: EventRequest): Promise<EventReply>;
}
