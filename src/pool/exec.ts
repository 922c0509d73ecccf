/**
 * What the server asks of a pool: one event in, one reply out. The server depends on this
 * interface only, so a test can drive a server with any pool.
 */

/** One event for a worker: the frame's context (RoadRunner's JSON, or protobuf), body and flags. */
export interface ExecRequest {
  /** The request context bytes (encoded once per connection by `protocol/`). */
  context: Buffer;
  /** The event's body; sent as is, never copied for large bodies. */
  body: Buffer;
  /** FLAGS byte of the request frame: 0x00 for RoadRunner's JSON, CODEC_PROTO 0x80 for protobuf. */
  flags: number;
  /** Sticky routing: use the worker with this pid if it is idle, else any idle worker. */
  preferPid?: number;
  /**
   * Called when the event has been sent to a worker (again if it is re-run on another), so the
   * caller can tell its wait for a worker from the worker's time. Must be cheap: it runs per event.
   */
  onWorker?: (() => void) | undefined;
}

/** A worker's reply to one event. */
export interface ExecReply {
  /** The reply's context: for TCP the verb bytes (`WRITE`, `CLOSE`, ...). A view, not a copy. */
  context: Buffer;
  /** The reply's body. A view, not a copy. */
  body: Buffer;
  /** FLAGS byte of the reply frame (codec bits). */
  flags: number;
  /** OS pid of the worker that answered (for sticky routing). */
  pid: number;
}

/** Runs events on workers. */
export interface EventPool {
  /**
   * Runs one event on one worker and resolves with its reply.
   *
   * @throws PoolError (rejects) with a code saying why the event failed.
   */
  exec(request: ExecRequest): Promise<ExecReply>;
}
