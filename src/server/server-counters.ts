/**
 * What one named server counts. Plain integer fields: a connection adds to them on its hot path
 * (one addition each), and the metrics read a snapshot of them at scrape time.
 */
import type { ProxyHeaderProblem } from "../net/index.js";
import type { CloseReason } from "./connection.js";

/** The events a connection gives the pool. */
export const EVENT_KINDS = ["connected", "data", "close"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** How the pool answered an event: the worker's verb, `unknown` for any other verb, `error` when the event failed. */
export const REPLY_KINDS = ["write", "writeclose", "continue", "close", "unknown", "error"] as const;
export type ReplyKind = (typeof REPLY_KINDS)[number];

/**
 * What became of a push to one client (tcp.Write, tcp.WriteClose, each client of a tcp.Broadcast):
 * taken (written, or waiting behind the reply of the event that is with a worker), refused for a
 * connection on its way out, refused for a client at its high-water mark.
 */
export const PUSH_OUTCOMES = ["taken", "closing", "not_reading"] as const;
export type PushOutcomeKind = (typeof PUSH_OUTCOMES)[number];

/** Counters of one named server. */
export interface ServerCounters {
  /** Connections accepted and given events. */
  accepted: number;
  /** Connections refused over max_connections (closed at once, no events). */
  rejected: number;
  /** Connections refused for their PROXY protocol header (closed before any event), by problem. */
  proxyRefused: Partial<Record<ProxyHeaderProblem, number>>;
  /** Connections of a TLS server whose handshake failed or timed out (closed before any event). */
  tlsHandshakeFailures: number;
  /** Connections open now (until their CLOSE event is answered). */
  open: number;
  /** Connections closed, by reason. */
  closed: Partial<Record<CloseReason, number>>;
  /** Events given to the pool, by kind. */
  events: Record<EventKind, number>;
  /** Answers from the pool, by kind: one per event. */
  replies: Record<ReplyKind, number>;
  /** Bytes read from clients (also those dropped while a connection closes). */
  bytesReceived: number;
  /** Bytes handed to clients' sockets (WRITE and WRITECLOSE bodies, and pushes). */
  bytesSent: number;
  /** Pushes to the server's clients, by outcome. */
  pushes: Record<PushOutcomeKind, number>;
  /** Bytes of the pushes taken. */
  bytesPushed: number;
}

export function newServerCounters(): ServerCounters {
  return {
    accepted: 0,
    rejected: 0,
    proxyRefused: {},
    tlsHandshakeFailures: 0,
    open: 0,
    closed: {},
    events: { connected: 0, data: 0, close: 0 },
    replies: { write: 0, writeclose: 0, continue: 0, close: 0, unknown: 0, error: 0 },
    bytesReceived: 0,
    bytesSent: 0,
    pushes: { taken: 0, closing: 0, not_reading: 0 },
    bytesPushed: 0,
  };
}

/** A copy that later counting does not change. */
export function copyServerCounters(counters: ServerCounters): ServerCounters {
  return {
    ...counters,
    closed: { ...counters.closed },
    proxyRefused: { ...counters.proxyRefused },
    events: { ...counters.events },
    replies: { ...counters.replies },
    pushes: { ...counters.pushes },
  };
}
