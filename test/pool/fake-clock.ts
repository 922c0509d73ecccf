/**
 * A clock for the pool's tests that moves only when told: `advance(ms)` fires, in order, every
 * timer due by then (timers set by those callbacks too). Time starts at the real time, so
 * timestamps look like the pool's ("0 = never" stays distinguishable).
 */
import type { Clock, Timer } from "../../src/pool/clock.js";

interface Pending {
  readonly due: number;
  readonly seq: number;
  readonly callback: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<Pending>();

  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const timer: Pending = { due: this.#now + Math.max(0, ms), seq: this.#seq++, callback };
    this.#timers.add(timer);
    return { cancel: () => void this.#timers.delete(timer) };
  }

  /** In how many ms each pending timer fires, soonest first. */
  pending(): number[] {
    return [...this.#timers].map((t) => t.due - this.#now).sort((a, b) => a - b);
  }

  /** Moves time on by `ms`, firing each timer at its due time, in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const next = this.#soonest();
      if (next === undefined || next.due > until) break;
      this.#timers.delete(next);
      this.#now = next.due;
      next.callback();
    }
    this.#now = until;
  }

  #soonest(): Pending | undefined {
    let soonest: Pending | undefined;
    for (const t of this.#timers) {
      if (soonest === undefined || t.due < soonest.due || (t.due === soonest.due && t.seq < soonest.seq)) soonest = t;
    }
    return soonest;
  }
}
