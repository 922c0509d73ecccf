/**
 * One event inside the pool: waiting in the queue, or with a worker. The record the caller's
 * promise settles through; it is also its own node in the wait queue.
 */
import type { ExecReply, ExecRequest } from "./exec.js";
import type { PoolError } from "./errors.js";
import type { WaitQueueNode } from "./wait-queue.js";

/** An event between `exec()` and its settlement. */
export class PendingEvent implements WaitQueueNode<PendingEvent> {
  readonly request: ExecRequest;
  readonly resolve: (reply: ExecReply) => void;
  readonly reject: (err: PoolError) => void;
  /** When allocate_timeout runs out for it (ms since the epoch), while waiting. */
  deadline = 0;
  /** How many times a worker asked to stop instead of answering it. */
  reruns = 0;
  prev: PendingEvent | undefined;
  next: PendingEvent | undefined;
  queued = false;

  constructor(request: ExecRequest, resolve: (reply: ExecReply) => void, reject: (err: PoolError) => void) {
    this.request = request;
    this.resolve = resolve;
    this.reject = reject;
  }
}
