/**
 * Runs a callback for each item once the event loop has polled its descriptors again after the
 * item was added. A worker that does not echo event ids is held here between its reply and its
 * next event: whatever else it wrote at once (a second reply) is read during that poll, while it
 * has no event, and is then a protocol error instead of the next event's reply
 * (docs/behaviour.md#replies-matched-to-their-events).
 *
 * Items added during the same turn share one batch and one pair of immediates: the first
 * immediate runs in this turn's check phase, after the poll that delivered the reply has read
 * every descriptor to its end; the second runs in the next turn's check phase, after one more
 * poll. An item added once the first has run starts a new batch, so every item waits a full poll.
 */
export class AfterNextPoll<T> {
  readonly #run: (item: T) => void;
  #open: T[] | undefined;

  constructor(run: (item: T) => void) {
    this.#run = run;
  }

  add(item: T): void {
    let batch = this.#open;
    if (batch === undefined) {
      const items: T[] = [];
      batch = this.#open = items;
      setImmediate(() => {
        this.#open = undefined;
        setImmediate(() => {
          for (const held of items) this.#run(held);
        });
      });
    }
    batch.push(item);
  }
}
