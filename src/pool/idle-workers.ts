/**
 * Idle workers, longest idle first (RoadRunner's FIFO of ready workers), with O(1) access to one
 * by pid for sticky routing.
 */

/** What the list needs of a worker. */
export interface IdleWorker {
  readonly pid: number;
}

/** A FIFO set of idle workers keyed by pid. */
export class IdleWorkers<W extends IdleWorker> {
  // A Map iterates in insertion order: its first entry is the longest idle worker.
  readonly #byPid = new Map<number, W>();

  get size(): number {
    return this.#byPid.size;
  }

  /** Appends a worker that just became idle. */
  push(worker: W): void {
    this.#byPid.delete(worker.pid);
    this.#byPid.set(worker.pid, worker);
  }

  /** Takes the worker with `preferPid` if it is idle, else the longest idle one. */
  take(preferPid?: number): W | undefined {
    if (preferPid !== undefined) {
      const preferred = this.#byPid.get(preferPid);
      if (preferred !== undefined) {
        this.#byPid.delete(preferPid);
        return preferred;
      }
    }
    const first = this.#byPid.values().next();
    if (first.done) return undefined;
    this.#byPid.delete(first.value.pid);
    return first.value;
  }

  /** Removes a worker (it is stopping); returns whether it was idle. */
  delete(worker: W): boolean {
    return this.#byPid.get(worker.pid) === worker && this.#byPid.delete(worker.pid);
  }

  has(worker: W): boolean {
    return this.#byPid.get(worker.pid) === worker;
  }

  values(): IterableIterator<W> {
    return this.#byPid.values();
  }
}
