/** The request context could not be decoded; names the codec and what was wrong. */
export class ContextDecodeError extends Error {
  readonly code = "CONTEXT_DECODE";
  constructor(
    readonly codec: "json" | "proto",
    message: string,
  ) {
    super(message);
    this.name = "ContextDecodeError";
  }
}
