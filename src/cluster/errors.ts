import { RrTcpError } from "../errors.js";

export type ClusterErrorCode =
  /** cluster.redis could not be reached (or refused us) when the instance started. */
  | "REDIS_UNREACHABLE"
  /** The instance holding a connection did not answer a forwarded call within cluster.forward_timeout. */
  | "FORWARD_TIMEOUT"
  /** A forwarded call could not be sent (Redis down), or its answer could not be read. */
  | "FORWARD_FAILED";

/** A cluster operation that failed for a reason of the cluster's, not of the connection's. */
export class ClusterError extends RrTcpError<ClusterErrorCode> {
  /** The other instance involved, when there is one. */
  readonly instance: string | undefined;

  constructor(
    code: ClusterErrorCode,
    message: string,
    facts: { key?: string; address?: string; uuid?: string; instance?: string; cause?: unknown } = {},
  ) {
    super(code, message, facts);
    this.instance = facts.instance;
  }
}
