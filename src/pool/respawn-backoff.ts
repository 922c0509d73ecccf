/**
 * How long to wait before starting a replacement after workers failed to start, or died right
 * after starting: exponential, capped, so a broken command is retried without spinning.
 */
import { realClock, type Clock } from "./clock.js";

/** Backoff settings, in milliseconds. */
export interface BackoffOptions {
  /** Delay after the first failure; default 100 ms. */
  initialMs?: number;
  /** Largest delay; default 30 s. */
  maxMs?: number;
}

/** Consecutive start failures and the delay they earn. */
export class RespawnBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #clock: Clock;
  #failures = 0;
  #lastFailureAt = 0;

  /** @param clock where `failure()` reads the time when given none; the real clock by default. */
  constructor(options: BackoffOptions = {}, clock: Clock = realClock) {
    this.#clock = clock;
    this.#initialMs = options.initialMs ?? 100;
    this.#maxMs = Math.max(this.#initialMs, options.maxMs ?? 30_000);
  }

  /** Failures in a row so far. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Records a failure and returns how long to wait before the next attempt. A failure long after
   * the previous one (more than twice the cap) starts a new series.
   */
  failure(now: number = this.#clock.now()): number {
    if (this.#failures > 0 && now - this.#lastFailureAt > 2 * this.#maxMs) this.#failures = 0;
    this.#lastFailureAt = now;
    const delay = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    return delay;
  }

  /**
   * A worker started at `startedAt` served an event: if it started after the last failure, the
   * command works again and the next failure starts from the initial delay. Old workers serving
   * prove nothing about the command (a broken deploy keeps them busy while new ones fail).
   */
  success(startedAt: number): void {
    if (startedAt >= this.#lastFailureAt) this.#failures = 0;
  }
}
