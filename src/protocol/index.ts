export {
  CONTEXT_KEYS,
  CODEC_PROTO_FLAG,
  contextCodecFor,
  contextCodecForFlags,
  jsonContextCodec,
  protoContextCodec,
} from "./context-codec.js";
export type { ContextCodec } from "./context-codec.js";
export { ContextDecodeError } from "./errors.js";
export { goJsonString, goJsonValue } from "./go-json.js";
export { TcpEvent, TcpResponse } from "./php-names.js";
export { SCHEMA_PACKAGE, SCHEMA_VERSION } from "./schema-version.js";
export {
  eventFromName,
  eventName,
  verbBytes,
  verbFromBytes,
  verbName,
  WIRE_EVENT_NAMES,
  WIRE_VERB_NAMES,
} from "./wire-names.js";
export { durationToMs, msToDuration } from "./duration.js";
