/**
 * The goridge header's flag bits (byte 1) and stream bits (byte 10), as the schema defines them
 * (proto/rr/goridge/v1/goridge.proto; docs/wire.md#flags, docs/wire.md#byte10-stream-bits).
 * The values are those of goridge-go `frame_flags.go` and goridge-php `Frame`.
 */
import { FrameFlag, StreamBit } from "../../gen/ts/rr/goridge/v1/goridge.js";

export { FrameFlag, StreamBit };

/** The stream bits under their older name here: the header's byte 10. */
export const Byte10 = StreamBit;
