/**
 * What a server reports beyond its counters (server-counters.ts): how long each event took. The
 * metrics implement it; the server never imports them, and without an observer it reads no clock.
 */

/** Where the timings of one named server's events go. Called once per event: must be cheap. */
export interface EventTimings {
  /**
   * An event was answered, or failed: the seconds it waited for a worker, and the seconds a
   * worker had it (undefined when it never reached one: a full queue, no free worker in time).
   */
  observe(queueSeconds: number, workerSeconds: number | undefined): void;
}

/** Observes a TcpServer. */
export interface ServerObserver {
  /** The timings of the server named `server`; asked once per server, when the TcpServer is made. */
  eventTimings(server: string): EventTimings;
}
