/**
 * The bytes all connections hold from their clients at once, waiting for the rest of a message.
 * Each connection is bounded by max_message_size, but a client that opens many connections is
 * not; this budget bounds the sum. Past it, the connections holding the most are closed first,
 * so one hoarding client pays, not the many with a few bytes each.
 */
export class BufferBudget<Owner> {
  #total = 0;
  readonly #held = new Map<Owner, number>();

  constructor(
    /** Bytes, at least 1. */
    readonly limit: number,
    /** Called for each owner closed to get back under the limit; it holds nothing from then on. */
    private readonly evict: (owner: Owner, held: number, total: number) => void,
  ) {}

  /** Bytes held by every owner together. */
  get total(): number {
    return this.#total;
  }

  /** Records what `owner` holds now; evicts the biggest holders while the total is over the limit. */
  hold(owner: Owner, bytes: number): void {
    const before = this.#held.get(owner) ?? 0;
    if (bytes === before) return;
    if (bytes === 0) this.#held.delete(owner);
    else this.#held.set(owner, bytes);
    this.#total += bytes - before;
    while (this.#total > this.limit) {
      let victim: Owner | undefined;
      let most = 0;
      for (const [candidate, held] of this.#held) {
        if (held > most) {
          most = held;
          victim = candidate;
        }
      }
      if (victim === undefined) return;
      const total = this.#total;
      this.release(victim);
      this.evict(victim, most, total);
    }
  }

  /** `owner` holds nothing any more (closed). */
  release(owner: Owner): void {
    const held = this.#held.get(owner);
    if (held === undefined) return;
    this.#held.delete(owner);
    this.#total -= held;
  }
}
