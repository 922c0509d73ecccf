import type { ConnectionInfo, PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import type { PushOutcome, ServerCounters } from "../server/index.js";

/** The plugin name RoadRunner registers the TCP server under: what `?plugin=` and the RPC's plugin arguments name. */
export const PLUGIN = "tcp";

/** What a broadcast did: how many clients took the bytes, the uuids of those skipped for not reading. */
export interface BroadcastOutcome {
  reached: number;
  refused: string[];
}

/** What the control API needs of the pool. */
export interface ControlledPool {
  state(): PoolState;
  reset(): Promise<void>;
  /** One more worker, kept (RoadRunner's informer.AddWorker). */
  addWorker(): Promise<void>;
  /** One worker fewer: an idle one now, else a busy one after its event (informer.RemoveWorker). */
  removeWorker(): Promise<void>;
  /** Workers replaced while the pool ran, by cause (src/pool's StopCause: exited, max_jobs, ttl, reset...). */
  restarts(): Partial<Record<string, number>>;
  /** A live worker's CPU use over its life, in percent of one core; 0 when unknown. */
  cpuPercent(pid: number): number;
}

/**
 * What the control API needs of the TCP servers. The push methods, tcp.Close and the listing may
 * answer later: a TcpServer answers at once for its own connections, a cluster (src/cluster)
 * after asking the instance that holds the connection, or every instance.
 */
export interface ControlledServer {
  /** Closes a client connection (with its CLOSE event); false when no connection has that uuid. */
  closeConnection(uuid: string): boolean | Promise<boolean>;
  /** What each named server counted: connections, events, replies, bytes. */
  counters(): Record<string, ServerCounters>;
  /**
   * The open connections, oldest first; only `server`'s when given.
   * @throws PushError UNKNOWN_SERVER
   */
  connections(server?: string): ConnectionInfo[] | Promise<ConnectionInfo[]>;
  /**
   * Writes bytes to one client from outside its events, after the reply of an event that is with
   * a worker; with `close` the connection then closes (tcp.WriteClose).
   * @throws PushError UNKNOWN_CONNECTION, CONNECTION_CLOSING, CLIENT_NOT_READING
   */
  write(uuid: string, data: Buffer, close?: boolean): PushOutcome | Promise<PushOutcome>;
  /**
   * Writes bytes to every client of one server; clients that do not read are skipped and listed.
   * @throws PushError UNKNOWN_SERVER
   */
  broadcast(server: string, data: Buffer): BroadcastOutcome | Promise<BroadcastOutcome>;
  /** Bytes all connections hold from their clients while waiting for the ends of messages. */
  bufferedBytes(): number;
  /** Memory the buffers of those bytes keep alive. */
  retainedBytes(): number;
}
