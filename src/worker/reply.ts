/**
 * What a `serve()` handler may return, and how it becomes a verb and a body. Kept apart from the
 * loop so the mapping has one definition.
 */
import { TcpResponse, verbName } from "../protocol/index.js";
import { WorkerError } from "./errors.js";

/** Bytes for the client: a string (sent as UTF-8) or raw bytes. */
export type ReplyBody = string | Uint8Array;

/** An explicit verb with an optional body. */
export interface VerbReply {
  verb: TcpResponse;
  body?: ReplyBody;
}

/**
 * A handler's answer:
 * - a string or bytes: WRITE them and keep reading;
 * - a verb (`TcpResponse.Close`, ...): that verb, no body;
 * - `{ verb, body }`: that verb with that body (`TcpResponse.RespondClose` writes, then closes);
 * - nothing (`undefined`, `null`): CONTINUE, which also acknowledges a CLOSE event.
 */
export type Reply = ReplyBody | TcpResponse | VerbReply | null | undefined | void;

const EMPTY = Buffer.alloc(0);

/**
 * The verb and body a handler's return value stands for.
 *
 * @throws WorkerError BAD_REPLY for a value that is none of the {@link Reply} forms.
 */
export function replyOf(value: Reply): { verb: TcpResponse; body: ReplyBody } {
  if (value === undefined || value === null) return { verb: TcpResponse.CONTINUE, body: EMPTY };
  if (typeof value === "string" || value instanceof Uint8Array) {
    return { verb: TcpResponse.WRITE, body: value };
  }
  if (typeof value === "number") return { verb: checkVerb(value), body: EMPTY };
  if (typeof value === "object" && "verb" in value) {
    const body = value.body ?? EMPTY;
    if (typeof body !== "string" && !(body instanceof Uint8Array)) {
      throw new WorkerError("BAD_REPLY", `a reply body must be a string or bytes, got ${describe(body)}`);
    }
    return { verb: checkVerb(value.verb), body };
  }
  throw new WorkerError(
    "BAD_REPLY",
    `a handler must return a string, bytes, a TcpResponse verb, { verb, body } or nothing; got ${describe(value)}`,
  );
}

function checkVerb(verb: unknown): TcpResponse {
  try {
    verbName(verb as TcpResponse);
    return verb as TcpResponse;
  } catch {
    throw new WorkerError("BAD_REPLY", `not a TcpResponse verb: ${describe(verb)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}
