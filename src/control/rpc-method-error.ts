import { RrTcpError } from "../errors.js";

/** An error the method returns to the caller (Go: the error of the method): an RPC error frame with its message. */
export class RpcMethodError extends RrTcpError<"RPC_METHOD"> {
  constructor(message: string, options?: { uuid?: string; cause?: unknown }) {
    super("RPC_METHOD", message, options);
  }
}
