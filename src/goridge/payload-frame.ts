/**
 * Payload frames (docs/wire.md#payload-context-and-body): one option, the context length C; the
 * payload is the context (C bytes) followed by the body. Every request and every normal worker
 * reply is one. Between rr-tcp and a worker that echoes event ids, a second option carries the
 * event id (docs/wire.md#event-ids-rr-tcp).
 */
import { PayloadOption } from "../../gen/ts/rr/goridge/v1/goridge.js";
import { FrameError } from "./errors.js";
import { headerSizeFor, writeFrameHeader, type Frame } from "./frame.js";

// Control and error frames are the other frame kinds a relay carries; re-exported so callers
// import every frame kind from one module.
export { encodeControlFrame, encodeErrorFrame, parseControl } from "./control-frame.js";
export type { ControlMessage } from "./control-frame.js";

/** The context a worker sends (empty body) to ask to be replaced (docs/wire.md#worker-stop-request). */
export const STOP_REQUEST = '{"stop":true}';

const STOP_REQUEST_BYTES = Buffer.from(STOP_REQUEST, "latin1");
/** Size of a payload frame's header: the base header and its one option (the context length). */
export const PAYLOAD_HEADER_SIZE = headerSizeFor(1);
// With the event id too.
const PAYLOAD_HEADER_WITH_ID_SIZE = headerSizeFor(2);

/** Where a payload frame's event id is, when it has one. */
const EVENT_ID_OPTION: number = PayloadOption.EVENT_ID;

/** Largest event id; ids count from 1 and wrap past it (0 is never an id). */
export const MAX_EVENT_ID = 0xffffffff;

/** The event id after `id`: 1..MAX_EVENT_ID, wrapping. */
export function nextEventId(id: number): number {
  return id >= MAX_EVENT_ID ? 1 : id + 1;
}

function headSize(contextLength: number, eventId: number | undefined): number {
  return (eventId === undefined ? PAYLOAD_HEADER_SIZE : PAYLOAD_HEADER_WITH_ID_SIZE) + contextLength;
}

// Header, options (context length, and the event id if given) and context, at the start of
// `target`, which has room for them.
function writePayloadHead(
  target: Buffer,
  context: Uint8Array,
  bodyLength: number,
  flags: number,
  byte10: number,
  eventId: number | undefined,
): void {
  const options = eventId === undefined ? [context.length] : [context.length, eventId];
  const headerSize = writeFrameHeader(target, flags, options, context.length + bodyLength, byte10);
  target.set(context, headerSize);
}

/**
 * Encodes a payload frame into a single new Buffer: header, options (context length, and the
 * event id if one is given), context, body.
 *
 * @param flags FLAGS byte; 0 for TCP (RoadRunner's TCP plugin sets no codec bit).
 * @param byte10 stream bits; 0 for TCP.
 * @param eventId the event id, only for a worker that echoes ids (its reply repeats the request's).
 */
export function encodePayloadFrame(
  context: Uint8Array,
  body: Uint8Array,
  flags = 0,
  byte10 = 0,
  eventId?: number,
): Buffer {
  const head = headSize(context.length, eventId);
  const frame = Buffer.allocUnsafe(head + body.length);
  writePayloadHead(frame, context, body.length, flags, byte10, eventId);
  frame.set(body, head);
  return frame;
}

/**
 * The head of a payload frame whose body the caller writes separately: header, options and
 * context in one new Buffer, so a large body is sent as it is, never copied into a frame.
 *
 * @param bodyLength the length of the body that follows the head.
 */
export function encodePayloadHead(
  context: Uint8Array,
  bodyLength: number,
  flags = 0,
  byte10 = 0,
  eventId?: number,
): Buffer {
  const head = Buffer.allocUnsafe(headSize(context.length, eventId));
  writePayloadHead(head, context, bodyLength, flags, byte10, eventId);
  return head;
}

/**
 * The event id of a frame: its second option, or undefined when it has no second option (every
 * frame RoadRunner or its workers write).
 */
export function eventIdOf(frame: Frame): number | undefined {
  return frame.options[EVENT_ID_OPTION];
}

/**
 * Splits a payload frame into context and body, both views into `frame.payload`. Does not look at
 * the ERROR flag: check it first, as RoadRunner does.
 *
 * @param withEventId the frame carries an event id as its second option (a request to, or a
 *   reply from, a worker that echoes ids); it must then have exactly two options.
 * @throws FrameError BAD_OPTIONS unless the frame has exactly one option (two `withEventId`),
 *   BAD_PAYLOAD if the context length exceeds the payload.
 */
export function splitPayload(frame: Frame, withEventId = false): { context: Buffer; body: Buffer } {
  const { options, payload } = frame;
  if (options.length !== (withEventId ? 2 : 1)) {
    if (withEventId) {
      throw new FrameError(
        "BAD_OPTIONS",
        `options length should be 2 (body offset, event id) from a worker that echoes event ids, got ` +
          `${options.length} options [${options.join(", ")}] (flags 0x${frame.flags.toString(16).padStart(2, "0")})`,
      );
    }
    throw new FrameError(
      "BAD_OPTIONS",
      `options length should be equal 1 (body offset), got ${options.length} ` +
        `options [${options.join(", ")}] (flags 0x${frame.flags.toString(16).padStart(2, "0")})`,
    );
  }
  const contextLength = options[0] as number;
  if (contextLength > payload.length) {
    throw new FrameError(
      "BAD_PAYLOAD",
      `bad payload: context length ${contextLength} (option 0) exceeds the payload length ${payload.length}`,
    );
  }
  return { context: payload.subarray(0, contextLength), body: payload.subarray(contextLength) };
}

/**
 * True when a worker's reply is a stop request: context exactly `{"stop":true}` and an empty
 * body, compared byte for byte as RoadRunner's pool does.
 */
export function isStopRequest(context: Buffer, body: Buffer): boolean {
  return body.length === 0 && context.equals(STOP_REQUEST_BYTES);
}
