/**
 * The goridge frame (docs/wire.md#frame-header): a 12-byte header, 0..10 little-endian uint32
 * options, then the payload. This module owns the byte layout; everything else builds on it.
 */
import { crc32 } from "node:zlib";
import { describeLimit, LIMITS, type Limit } from "../limits.js";
import { HeaderConstant, HeaderOffset } from "../../gen/ts/rr/goridge/v1/goridge.js";
import { FrameError } from "./errors.js";

export { FrameFlag, Byte10 } from "./frame-flags.js";

const { FLAGS, PAYLOAD_LENGTH, CRC, STREAM_BITS, RESERVED, OPTIONS } = HeaderOffset;
const WORD = HeaderConstant.WORD_SIZE;

/** One decoded frame. */
export interface Frame {
  /** High nibble of byte 0; 1 for every known sender, never checked by RoadRunner. */
  version: number;
  /** FLAGS byte, see {@link FrameFlag}. */
  flags: number;
  /** Stream bits, see {@link Byte10}. */
  byte10: number;
  /** Unused by RoadRunner, always 0 when sent. */
  byte11: number;
  /** Option words; a payload frame has exactly one, the context length. */
  options: number[];
  /** Everything after the header. Often a view into the received chunk, not a copy. */
  payload: Buffer;
}

/** Size of the header without options, in bytes (proto/rr/goridge/v1). */
export const HEADER_BASE_SIZE: number = OPTIONS;
/** Most options a header can carry (goridge-go panics above this). */
export const MAX_OPTIONS: number = HeaderConstant.MAX_OPTIONS;
/** Default limit on a received payload: large, but stops a corrupt length from allocating gigabytes. */
export const DEFAULT_MAX_PAYLOAD_SIZE = LIMITS.framePayload.value;

/** Size of a header with `optionCount` options, in bytes. */
export function headerSizeFor(optionCount: number): number {
  return HEADER_BASE_SIZE + WORD * optionCount;
}

const VERSION = HeaderConstant.VERSION;
const MIN_HEADER_WORDS = HeaderConstant.BASE_WORDS;
const MAX_HEADER_WORDS = MIN_HEADER_WORDS + MAX_OPTIONS;
const MAX_UINT32 = 0xffffffff;
// What PHP-CLI prints when the worker script path is wrong; Go's receiver checks for the same bytes.
const PHP_COULD_NOT_OPEN = Buffer.from("Could not op", "latin1");
// How much of a non-frame to quote in an error: enough to read a PHP warning, bounded for logs.
const QUOTED_TEXT_LIMIT = 200;

/**
 * Writes a header at the start of `target` and returns its size (12 + 4 per option).
 * The caller writes the payload after it.
 *
 * @throws FrameError TOO_MANY_OPTIONS above 10 options, BAD_FIELD when a value does not fit.
 */
export function writeFrameHeader(
  target: Buffer,
  flags: number,
  options: readonly number[],
  payloadLength: number,
  byte10 = 0,
): number {
  const count = options.length;
  checkOptionCount(count);
  checkByte("flags", flags);
  checkByte("byte10", byte10);
  checkUint32("payload length", payloadLength);
  const words = MIN_HEADER_WORDS + count;
  target[0] = (VERSION << 4) | words;
  target[FLAGS] = flags;
  target.writeUInt32LE(payloadLength, PAYLOAD_LENGTH);
  // Byte 0 already holds the final header length, which the CRC covers (docs/wire.md#header-crc).
  target.writeUInt32LE(crc32(target.subarray(0, CRC)), CRC);
  target[STREAM_BITS] = byte10;
  target[RESERVED] = 0;
  for (let i = 0; i < count; i++) {
    const option = options[i] as number;
    checkUint32(`option ${i}`, option);
    target.writeUInt32LE(option, HEADER_BASE_SIZE + WORD * i);
  }
  return words * WORD;
}

/**
 * Encodes a header alone, for a payload the caller writes separately.
 *
 * @param flags FLAGS byte, see {@link FrameFlag}.
 * @param options 0..10 uint32 option words.
 * @param payloadLength length of the payload that will follow.
 * @param byte10 stream bits, see {@link Byte10}.
 * @throws FrameError TOO_MANY_OPTIONS or BAD_FIELD.
 */
export function encodeFrameHeader(
  flags: number,
  options: readonly number[],
  payloadLength: number,
  byte10 = 0,
): Buffer {
  checkOptionCount(options.length);
  const header = Buffer.allocUnsafe(headerSizeFor(options.length));
  writeFrameHeader(header, flags, options, payloadLength, byte10);
  return header;
}

/**
 * Encodes a whole frame into one Buffer (header then payload), so it can be written with a
 * single write.
 *
 * @throws FrameError TOO_MANY_OPTIONS or BAD_FIELD.
 */
export function encodeFrame(flags: number, options: readonly number[], payload: Uint8Array, byte10 = 0): Buffer {
  checkOptionCount(options.length);
  const headerSize = headerSizeFor(options.length);
  const frame = Buffer.allocUnsafe(headerSize + payload.length);
  writeFrameHeader(frame, flags, options, payload.length, byte10);
  frame.set(payload, headerSize);
  return frame;
}

/**
 * Decodes exactly one complete frame. The payload is a view into `bytes`.
 *
 * @param opts.maxPayloadSize largest accepted payload, default {@link DEFAULT_MAX_PAYLOAD_SIZE}.
 * @throws FrameError TRUNCATED if `bytes` is shorter than the frame it starts, TRAILING_BYTES if
 *   longer, or any header error of {@link readFrameLength}.
 */
export function decodeFrame(bytes: Buffer, opts?: { maxPayloadSize?: number }): Frame {
  if (bytes.length < HEADER_BASE_SIZE) {
    throw truncatedError(bytes.length, HEADER_BASE_SIZE, "frame header");
  }
  const frameLength = readFrameLength(bytes, 0, opts?.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE);
  if (bytes.length < frameLength) {
    throw truncatedError(bytes.length, frameLength, describeFrame(bytes, 0));
  }
  if (bytes.length > frameLength) {
    throw new FrameError(
      "TRAILING_BYTES",
      `expected exactly one frame of ${frameLength} bytes (${describeFrame(bytes, 0)}), ` +
        `got ${bytes.length} bytes: ${bytes.length - frameLength} bytes follow it`,
    );
  }
  return sliceFrame(bytes, 0, frameLength);
}

/**
 * Validates the 12 fixed header bytes at `offset` and returns the length of the whole frame
 * (header with options, plus payload). Needs only those 12 bytes, so a reader can reject a bad or
 * oversized frame before buffering the rest of it.
 *
 * @throws FrameError NOT_A_FRAME, CRC_MISMATCH, BAD_HEADER_LENGTH or PAYLOAD_TOO_LARGE.
 */
export function readFrameLength(
  bytes: Buffer,
  offset: number,
  maxPayloadSize: number,
  limit: Limit = LIMITS.framePayload,
): number {
  const byte0 = bytes[offset] as number;
  const expectedCrc = crc32(bytes.subarray(offset, offset + CRC));
  const storedCrc = bytes.readUInt32LE(offset + CRC);
  if (expectedCrc !== storedCrc) {
    throw crcError(bytes, offset, expectedCrc, storedCrc);
  }
  const words = byte0 & 0x0f;
  if (words < MIN_HEADER_WORDS || words > MAX_HEADER_WORDS) {
    throw new FrameError(
      "BAD_HEADER_LENGTH",
      `header length is ${words} words (byte 0 = 0x${hex2(byte0)}); ` +
        `it must be ${MIN_HEADER_WORDS}..${MAX_HEADER_WORDS} (12 bytes plus 0..${MAX_OPTIONS} options)`,
    );
  }
  const payloadLength = bytes.readUInt32LE(offset + PAYLOAD_LENGTH);
  if (payloadLength > maxPayloadSize) {
    throw new FrameError(
      "PAYLOAD_TOO_LARGE",
      `frame announces a payload of ${payloadLength} bytes, over the limit of ${describeLimit(limit, maxPayloadSize)}`,
    );
  }
  return words * WORD + payloadLength;
}

/**
 * Builds the {@link Frame} that starts at `offset`, whose header {@link readFrameLength} already
 * validated; the payload is a view into `bytes`, not a copy.
 */
export function sliceFrame(bytes: Buffer, offset: number, frameLength: number): Frame {
  const byte0 = bytes[offset] as number;
  const headerSize = (byte0 & 0x0f) * WORD;
  const count = (headerSize - HEADER_BASE_SIZE) / WORD;
  const options: number[] = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    options[i] = bytes.readUInt32LE(offset + HEADER_BASE_SIZE + WORD * i);
  }
  return {
    version: byte0 >> 4,
    flags: bytes[offset + FLAGS] as number,
    byte10: bytes[offset + STREAM_BITS] as number,
    byte11: bytes[offset + RESERVED] as number,
    options,
    payload: bytes.subarray(offset + headerSize, offset + frameLength),
  };
}

/** The error for input that ends `got` bytes into something of `need` bytes. */
export function truncatedError(got: number, need: number, what: string): FrameError {
  return new FrameError(
    "TRUNCATED",
    `stream ended mid-frame: ${need - got} of ${need} bytes of the ${what} are missing (got ${got})`,
  );
}

/** A short description of the frame whose valid header starts at `offset`, for messages. */
export function describeFrame(bytes: Buffer, offset: number): string {
  const headerSize = ((bytes[offset] as number) & 0x0f) * WORD;
  const payloadLength = bytes.readUInt32LE(offset + PAYLOAD_LENGTH);
  return `frame (${headerSize}-byte header + ${payloadLength}-byte payload)`;
}

function crcError(bytes: Buffer, offset: number, expected: number, stored: number): FrameError {
  const crcs = `header CRC32 is 0x${hex8(stored)} but bytes 0..5 give 0x${hex8(expected)}`;
  const header = bytes.subarray(offset, offset + HEADER_BASE_SIZE);
  const seen = quoteText(bytes, offset);
  if (header.equals(PHP_COULD_NOT_OPEN)) {
    return new FrameError(
      "NOT_A_FRAME",
      `the worker printed text instead of a frame (PHP could not open the worker script?): ${seen}`,
    );
  }
  const version = (bytes[offset] as number) >> 4;
  if (version !== VERSION && isPrintable(header)) {
    return new FrameError(
      "NOT_A_FRAME",
      `the worker printed text instead of a frame (${crcs}): ${seen}; ` +
        "a worker must not write anything but frames to its relay (stdout on pipes)",
    );
  }
  const hint =
    version !== VERSION
      ? `; version nibble is ${version}, not ${VERSION}, so this is probably not a frame; ` +
        `the bytes read as ${seen}`
      : "";
  return new FrameError("CRC_MISMATCH", `${crcs}${hint}`);
}

function quoteText(bytes: Buffer, offset: number): string {
  const end = Math.min(bytes.length, offset + QUOTED_TEXT_LIMIT);
  const more = bytes.length > end ? "..." : "";
  return JSON.stringify(bytes.toString("latin1", offset, end)) + more;
}

/** Printable ASCII, tab, LF and CR: what a worker's stray text output is made of. */
const PRINTABLE = /^[\x20-\x7e\t\n\r]*$/;

function isPrintable(bytes: Buffer): boolean {
  return PRINTABLE.test(bytes.toString("latin1"));
}

function checkOptionCount(count: number): void {
  if (count > MAX_OPTIONS) {
    throw new FrameError("TOO_MANY_OPTIONS", `a frame header holds at most ${MAX_OPTIONS} options, got ${count}`);
  }
}

function checkByte(field: string, value: number): void {
  if ((value & 0xff) !== value) {
    throw new FrameError("BAD_FIELD", `${field} must be an integer 0..255, got ${value}`);
  }
}

function checkUint32(field: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= MAX_UINT32)) {
    throw new FrameError("BAD_FIELD", `${field} must be an integer 0..${MAX_UINT32}, got ${value}`);
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
