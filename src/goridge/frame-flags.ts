/**
 * Bit values of the goridge header's FLAGS byte (byte 1) and BYTE10 (docs/wire.md#flags,
 * docs/wire.md#byte10-stream-bits).
 * Values are those of goridge-go `frame_flags.go` and goridge-php `Frame`.
 */

/** FLAGS byte bits. Codec bits are hints only; the TCP plugin sends none of them (flags 0x00). */
export const FrameFlag = {
  /** Control frame (pid handshake, stop); the payload is JSON. */
  CONTROL: 0x01,
  CODEC_RAW: 0x04,
  CODEC_JSON: 0x08,
  CODEC_MSGPACK: 0x10,
  CODEC_GOB: 0x20,
  /** Error frame; the payload is the error message. */
  ERROR: 0x40,
  CODEC_PROTO: 0x80,
} as const;

/** BYTE10 bits, used only by RoadRunner's streaming mode (which TCP rejects). */
export const Byte10 = {
  /** More frames of the same response follow. */
  STREAM: 0x01,
  /** Server to worker: cancel the stream. */
  STOP: 0x02,
  /** Worker to server inside a stream. */
  PING: 0x04,
  /** Server to worker: reply to PING. */
  PONG: 0x08,
} as const;
