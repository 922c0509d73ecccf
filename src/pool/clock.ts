/**
 * The pool's time: what "now" is and when a timer fires. Every limit the pool enforces by time
 * goes through one {@link Clock}: the respawn backoff, allocate_timeout (the start of a worker and
 * an event's wait for one), the supervisor's watch_tick, ttl, idle_ttl and exec_ttl,
 * reset_timeout, destroy_timeout and the stop timeout. The real clock is the default; a test
 * passes its own (`WorkerPoolOptions.clock`) and moves time itself instead of sleeping.
 *
 * The short grace periods that wait for the operating system (an exited worker's last output
 * reaching its pipes) are not limits of the pool and stay on real time.
 */

/** A timer set with {@link Clock.setTimeout}. */
export interface Timer {
  /** Stops the timer; nothing happens if it already fired or was cancelled. */
  cancel(): void;
}

/** Options of {@link Clock.setTimeout}. */
export interface TimerOptions {
  /** The timer alone does not keep the process alive (Node's `unref`). Default false. */
  readonly unref?: boolean;
}

/** Where the pool reads the time and sets its timers. */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now. */
  setTimeout(callback: () => void, ms: number, options?: TimerOptions): Timer;
}

class NodeTimer implements Timer {
  readonly #timeout: NodeJS.Timeout;

  constructor(timeout: NodeJS.Timeout) {
    this.#timeout = timeout;
  }

  cancel(): void {
    clearTimeout(this.#timeout);
  }
}

/** The real clock: `Date.now()` and Node's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms, options) {
    const timeout = setTimeout(callback, ms);
    if (options?.unref === true) timeout.unref();
    return new NodeTimer(timeout);
  },
};
