/**
 * The goridge transport: frames, the streaming reader, relays and the pid handshake.
 * Knows nothing of TCP or of the rest of rr-tcp.
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
  readFrameLength,
  sliceFrame,
  writeFrameHeader,
  type Frame,
} from "./frame.js";
export * from "./payload-frame.js";
export * from "./frame-reader.js";
export * from "./relay.js";
export * from "./relay-address.js";
export * from "./handshake.js";
export * from "./rpc-frame.js";
export * from "./socket-listen.js";
export * from "./socket-relay-listener.js";
export * from "./connect-relay.js";
