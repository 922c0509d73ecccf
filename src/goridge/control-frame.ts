/**
 * Frames without a context/body split (docs/wire.md#control-and-error-frames): control frames,
 * whose payload is JSON (pid handshake, stop), and error frames, whose payload is a message.
 */
import { FrameError } from "./errors.js";
import type { ControlMessage as SchemaControlMessage } from "../../gen/ts/rr/goridge/v1/goridge.js";
import { FrameFlag } from "./frame-flags.js";
import { headerSizeFor, writeFrameHeader, type Frame } from "./frame.js";

/**
 * What a control frame says (the schema's rr.goridge.v1.ControlMessage): a pid request or
 * reply, a stop command, and in a worker's pid reply what it can do beyond RoadRunner's protocol.
 * A key that is absent is left out.
 */
export type ControlMessage = Partial<SchemaControlMessage>;

const NO_OPTIONS: readonly number[] = [];

/**
 * Encodes a control frame whose payload is `JSON.stringify(message)`. Without spaces, as Go's
 * `json.Marshal` writes `{"pid":N}` and `{"stop":true}`.
 *
 * @param flags defaults to CONTROL|CODEC_JSON (0x09), what RoadRunner sends; a PHP worker sends
 *   CONTROL alone (0x01).
 * @throws FrameError BAD_CONTROL if `message` has no JSON form.
 */
export function encodeControlFrame(message: object, flags: number = FrameFlag.CONTROL | FrameFlag.CODEC_JSON): Buffer {
  const json: string | undefined = JSON.stringify(message);
  if (json === undefined) {
    throw new FrameError("BAD_CONTROL", "control message has no JSON representation");
  }
  return encodeTextFrame(flags, json);
}

/**
 * Encodes an error frame (FLAGS 0x40, no options), what PHP's `Worker::error()` sends. RoadRunner
 * reports it as a soft job error and keeps the worker.
 *
 * @param eventId the id of the event it answers, from a worker that echoes event ids: the frame
 *   then has the options [0, eventId], as a payload reply has [context length, eventId].
 */
export function encodeErrorFrame(message: string, eventId?: number): Buffer {
  return encodeTextFrame(FrameFlag.ERROR, message, eventId === undefined ? NO_OPTIONS : [0, eventId]);
}

/**
 * Reads the JSON of a control frame.
 *
 * @throws FrameError BAD_CONTROL if the CONTROL flag is missing, the payload is not a JSON object,
 *   or a known key has the wrong type (`pid` an integer, `stop` and `echo_event_id` booleans,
 *   `context_codecs` a list of strings). Unknown keys are ignored, as RoadRunner does.
 */
export function parseControl(frame: Frame): ControlMessage {
  if ((frame.flags & FrameFlag.CONTROL) === 0) {
    throw new FrameError(
      "BAD_CONTROL",
      `not a control frame: flags 0x${frame.flags.toString(16).padStart(2, "0")} lack CONTROL (0x${FrameFlag.CONTROL.toString(16).padStart(2, "0")})`,
    );
  }
  const text = frame.payload.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FrameError("BAD_CONTROL", `control frame payload is not JSON: ${quote(text)}`, {
      cause: err,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FrameError("BAD_CONTROL", `control frame payload is not a JSON object: ${quote(text)}`);
  }
  const fields = value as Record<string, unknown>;
  const message: ControlMessage = {};
  if (fields.pid !== undefined) {
    if (!Number.isSafeInteger(fields.pid)) {
      throw new FrameError("BAD_CONTROL", `control frame "pid" is not an integer: ${quote(text)}`);
    }
    message.pid = fields.pid as number;
  }
  if (fields.stop !== undefined) {
    if (typeof fields.stop !== "boolean") {
      throw new FrameError("BAD_CONTROL", `control frame "stop" is not a boolean: ${quote(text)}`);
    }
    message.stop = fields.stop;
  }
  if (fields.context_codecs !== undefined) {
    const codecs = fields.context_codecs;
    if (!Array.isArray(codecs) || !codecs.every((c) => typeof c === "string")) {
      throw new FrameError("BAD_CONTROL", `control frame "context_codecs" is not a list of strings: ${quote(text)}`);
    }
    message.context_codecs = codecs as string[];
  }
  if (fields.echo_event_id !== undefined) {
    if (typeof fields.echo_event_id !== "boolean") {
      throw new FrameError("BAD_CONTROL", `control frame "echo_event_id" is not a boolean: ${quote(text)}`);
    }
    message.echo_event_id = fields.echo_event_id;
  }
  return message;
}

function encodeTextFrame(flags: number, text: string, options: readonly number[] = NO_OPTIONS): Buffer {
  const length = Buffer.byteLength(text, "utf8");
  const headerSize = headerSizeFor(options.length);
  const frame = Buffer.allocUnsafe(headerSize + length);
  writeFrameHeader(frame, flags, options, length);
  frame.write(text, headerSize, "utf8");
  return frame;
}

// Bounded so a worker that sends megabytes of junk does not flood the log.
function quote(text: string): string {
  return text.length > 200 ? `${JSON.stringify(text.slice(0, 200))}...` : JSON.stringify(text);
}
