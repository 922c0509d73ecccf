/**
 * Payload frames (docs/wire.md#payload-context-and-body): one option, the context length C; the
 * payload is the context (C bytes) followed by the body. Every request and every normal worker
 * reply is one.
 */
import { FrameError } from "./errors.js";
import { HEADER_BASE_SIZE, writeFrameHeader, type Frame } from "./frame.js";

// Control and error frames are the other frame kinds a relay carries; re-exported so callers
// import every frame kind from one module.
export { encodeControlFrame, encodeErrorFrame, parseControl } from "./control-frame.js";
export type { ControlMessage } from "./control-frame.js";

/** The context a worker sends (empty body) to ask to be replaced (docs/wire.md#worker-stop-request). */
export const STOP_REQUEST = '{"stop":true}';

const STOP_REQUEST_BYTES = Buffer.from(STOP_REQUEST, "latin1");
/** Size of a payload frame's header: the base header and its one option (the context length). */
export const PAYLOAD_HEADER_SIZE = HEADER_BASE_SIZE + 4;

/**
 * Encodes a payload frame into a single new Buffer: header, option (context length), context, body.
 *
 * @param flags FLAGS byte; 0 for TCP (RoadRunner's TCP plugin sets no codec bit).
 * @param byte10 stream bits; 0 for TCP.
 */
export function encodePayloadFrame(context: Uint8Array, body: Uint8Array, flags = 0, byte10 = 0): Buffer {
  const contextLength = context.length;
  const payloadLength = contextLength + body.length;
  const frame = Buffer.allocUnsafe(PAYLOAD_HEADER_SIZE + payloadLength);
  writeFrameHeader(frame, flags, [contextLength], payloadLength, byte10);
  frame.set(context, PAYLOAD_HEADER_SIZE);
  frame.set(body, PAYLOAD_HEADER_SIZE + contextLength);
  return frame;
}

/**
 * The head of a payload frame whose body the caller writes separately: header, option and context
 * in one new Buffer, so a large body is sent as it is, never copied into a frame.
 *
 * @param bodyLength the length of the body that follows the head.
 */
export function encodePayloadHead(context: Uint8Array, bodyLength: number, flags = 0, byte10 = 0): Buffer {
  const contextLength = context.length;
  const head = Buffer.allocUnsafe(PAYLOAD_HEADER_SIZE + contextLength);
  writeFrameHeader(head, flags, [contextLength], contextLength + bodyLength, byte10);
  head.set(context, PAYLOAD_HEADER_SIZE);
  return head;
}

/**
 * Splits a payload frame into context and body, both views into `frame.payload`. Does not look at
 * the ERROR flag: check it first, as RoadRunner does.
 *
 * @throws FrameError BAD_OPTIONS unless the frame has exactly one option, BAD_PAYLOAD if the
 *   context length exceeds the payload.
 */
export function splitPayload(frame: Frame): { context: Buffer; body: Buffer } {
  const { options, payload } = frame;
  if (options.length !== 1) {
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
