import type { PoolState } from "../../gen/ts/rr/tcp/v1/control.js";

/** What the control API needs of the pool. */
export interface ControlledPool {
  state(): PoolState;
  reset(): Promise<void>;
  /** One more worker, kept (RoadRunner's informer.AddWorker). */
  addWorker(): Promise<void>;
  /** One worker fewer: an idle one now, else a busy one after its event (informer.RemoveWorker). */
  removeWorker(): Promise<void>;
}

/** What the control API needs of the TCP servers. */
export interface ControlledServer {
  /** Closes a client connection (with its CLOSE event); false when no connection has that uuid. */
  closeConnection(uuid: string): boolean;
  /** Open connections per server name. */
  openConnections(): Record<string, number>;
  /** Bytes all connections hold from their clients while waiting for the ends of messages. */
  bufferedBytes(): number;
  /** Memory the buffers of those bytes keep alive. */
  retainedBytes(): number;
}
