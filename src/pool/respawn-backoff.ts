/**
 * How long to wait before starting a replacement after workers failed to start, or died right
 * after starting or on their first events (docs/behaviour.md#workers): exponential, capped, so a
 * broken command is retried without spinning.
 */
import { realClock, type Clock } from "./clock.js";

// A worker that exits by itself this soon after its handshake, with no event given yet, counts as
// a failed start: it would otherwise be replaced in a tight loop. Later, an idle worker's death
// (the OOM killer, say) says nothing about the command.
const EARLY_EXIT_MS = 1_000;
// A worker that dies within this many events, having answered none with a verb (only ERROR frames,
// stop requests, or nothing), counts as a failed start however long it sat idle first: it cannot
// read or serve its events, and each replacement would take the next event and die too. Small, so
// a worker that served and then failed a few events is an ordinary crash, replaced at once.
export const MAX_UNANSWERED_EVENTS = 3;

/** What the pool knows of a worker that is gone, for {@link failedEarly}. */
export interface EarlyExitFacts {
  /** It died by itself, or was killed for breaking the protocol (not stopped or killed on purpose). */
  readonly endedByItself: boolean;
  /** Events it was given. */
  readonly numExecs: number;
  /** Events it answered with a verb (a reply a connection can use). */
  readonly numAnswers: number;
  /** Milliseconds from its pid handshake to its end. */
  readonly msSinceReady: number;
}

/**
 * Whether a gone worker counts as a failed start, so that its replacement waits for the backoff:
 * it ended by itself without answering any event, right after its handshake or within its first
 * {@link MAX_UNANSWERED_EVENTS} events.
 */
export function failedEarly(facts: EarlyExitFacts): boolean {
  if (!facts.endedByItself || facts.numAnswers > 0) return false;
  if (facts.numExecs === 0) return facts.msSinceReady < EARLY_EXIT_MS;
  return facts.numExecs <= MAX_UNANSWERED_EVENTS;
}

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
