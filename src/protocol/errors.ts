import { RrTcpError } from "../errors.js";

/** The request context could not be decoded; names the codec and what was wrong. */
export class ContextDecodeError extends RrTcpError<"CONTEXT_DECODE"> {
  constructor(
    readonly codec: "json" | "proto",
    message: string,
  ) {
    super("CONTEXT_DECODE", message);
  }
}
