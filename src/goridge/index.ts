/**
 * The goridge codec: frame headers, flags, options, payloads, control and RPC frames, and the
 * streaming frame reader. Bytes in, bytes out: no sockets, no processes, nothing of TCP or of the
 * rest of rr-tcp. Carrying frames over pipes and sockets is src/relay's job.
 */
export * from "./errors.js";
export * from "./frame-flags.js";
export {
  DEFAULT_MAX_PAYLOAD_SIZE,
  HEADER_BASE_SIZE,
  MAX_OPTIONS,
  decodeFrame,
  encodeFrame,
  encodeFrameHeader,
  headerSizeFor,
  readFrameLength,
  sliceFrame,
  writeFrameHeader,
  type Frame,
} from "./frame.js";
export * from "./payload-frame.js";
export * from "./frame-reader.js";
export * from "./rpc-frame.js";
