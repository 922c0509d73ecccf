/**
 * The events waiting for an idle worker, in arrival order. An intrusive doubly linked list: the
 * event is its own node, so pushing, taking the head and removing one that timed out are O(1)
 * and allocate nothing.
 */

/** The links a queued item carries; owned by the queue. */
export interface WaitQueueNode<T> {
  prev: T | undefined;
  next: T | undefined;
  queued: boolean;
}

/** A FIFO of nodes that can also remove any node it holds. */
export class WaitQueue<T extends WaitQueueNode<T>> {
  #head: T | undefined;
  #tail: T | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds at the end. A node is in at most one queue at a time. */
  push(node: T): void {
    if (node.queued) throw new Error("node is already queued");
    node.queued = true;
    node.next = undefined;
    node.prev = this.#tail;
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#size++;
  }

  /** Adds at the front (an event that already waited its turn). */
  unshift(node: T): void {
    if (node.queued) throw new Error("node is already queued");
    node.queued = true;
    node.prev = undefined;
    node.next = this.#head;
    if (this.#head) this.#head.prev = node;
    else this.#tail = node;
    this.#head = node;
    this.#size++;
  }

  /** Removes and returns the oldest node. */
  shift(): T | undefined {
    const node = this.#head;
    if (node) this.remove(node);
    return node;
  }

  /** Removes `node`; returns false if it was not queued. */
  remove(node: T): boolean {
    if (!node.queued) return false;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
    node.queued = false;
    this.#size--;
    return true;
  }

  /** The nodes, oldest first (a snapshot is safe to remove from while iterating). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let node = this.#head; node; node = node.next) yield node;
  }

  /** Removes every node and returns them, oldest first. */
  drain(): T[] {
    const nodes: T[] = [];
    for (let node = this.shift(); node; node = this.shift()) nodes.push(node);
    return nodes;
  }
}
