/**
 * Errors of the goridge codec: a frame that cannot be encoded or decoded. The message carries the
 * facts needed to diagnose the problem from a log line alone (which bytes, which limit).
 */
import { RrTcpError } from "../errors.js";

/** Reasons a frame is rejected by the codec or the reader. */
export type FrameErrorCode =
  /** Header CRC32 (bytes 6..9) disagrees with the CRC of bytes 0..5. */
  | "CRC_MISMATCH"
  /** Header length nibble below 3 or above 13 words. */
  | "BAD_HEADER_LENGTH"
  /** The input ended in the middle of a frame. */
  | "TRUNCATED"
  /** The announced payload is larger than the configured limit. */
  | "PAYLOAD_TOO_LARGE"
  /** A payload frame does not carry exactly one option (the context length). */
  | "BAD_OPTIONS"
  /** The payload does not match what its header or options announce. */
  | "BAD_PAYLOAD"
  /** The bytes are text printed by the worker, not a frame. */
  | "NOT_A_FRAME"
  /** `decodeFrame` was given more bytes than one frame. */
  | "TRAILING_BYTES"
  /** An encoder was asked for more than 10 options. */
  | "TOO_MANY_OPTIONS"
  /** A flags byte, byte 10, option or length does not fit its field. */
  | "BAD_FIELD"
  /** A control frame whose payload is not the JSON object expected. */
  | "BAD_CONTROL"
  /** The reader was ended while bytes an onFrame callback left unparsed were still buffered. */
  | "UNREAD_FRAMES";

/** A frame that cannot be encoded or decoded. */
export class FrameError extends RrTcpError<FrameErrorCode> {}
