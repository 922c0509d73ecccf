/**
 * Request context codecs. RoadRunner sends the context as JSON with fixed key order and flags
 * 0x00; rr-tcp can also send it as protobuf flagged CODEC_PROTO. Both read and write the
 * generated `RequestContext`, whose field names and order are the JSON keys.
 */
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { FrameFlag } from "../../gen/ts/rr/goridge/v1/goridge.js";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { ContextCodec as ContextCodecKind } from "../../gen/ts/rr/tcp/v1/options.js";
import { goJsonString } from "./go-json.js";
import { eventFromName, eventName } from "./wire-names.js";
import { ContextDecodeError } from "./errors.js";

/** goridge frame flag of a protobuf context (the schema's FrameFlag.CODEC_PROTO). */
export const CODEC_PROTO_FLAG: number = FrameFlag.CODEC_PROTO;

/** The JSON keys, in RoadRunner's order: the schema's field names in field order. */
export const CONTEXT_KEYS = Object.keys(RequestContext.create()) as (keyof RequestContext)[];

/** Encodes and decodes the context part of a request frame. */
export interface ContextCodec {
  /** The codec's name as in the config (`json`, `proto`). */
  readonly name: "json" | "proto";
  /** The frame flags a request carrying this encoding has. */
  readonly frameFlags: number;
  encode(context: RequestContext): Buffer;
  decode(bytes: Uint8Array): RequestContext;
}

function encodeJson(context: RequestContext): string {
  let out = "{";
  for (const key of CONTEXT_KEYS) {
    const value = key === "event" ? eventName(context.event) : context[key];
    out += (out.length > 1 ? "," : "") + goJsonString(key) + ":" + goJsonString(value);
  }
  return out + "}";
}

/** RoadRunner's JSON context, byte for byte as Go's json.Marshal of the plugin's ServerInfo. */
export const jsonContextCodec: ContextCodec = {
  name: "json",
  frameFlags: 0,
  encode(context) {
    return Buffer.from(encodeJson(context), "utf8");
  },
  decode(bytes) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ContextDecodeError(
        "json",
        `invalid JSON context ${JSON.stringify(text.slice(0, 200))}: ${(err as Error).message}`,
      );
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new ContextDecodeError("json", `JSON context is not an object: ${JSON.stringify(text.slice(0, 200))}`);
    }
    const record = parsed as Record<string, unknown>;
    const context = RequestContext.create();
    for (const key of CONTEXT_KEYS) {
      const value = record[key];
      if (key === "event") context.event = eventFromName(value);
      else if (typeof value === "string") context[key] = value;
      else if (value !== undefined && value !== null) {
        throw new ContextDecodeError("json", `context key "${key}" must be a string, got ${JSON.stringify(value)}`);
      }
    }
    return context;
  },
};

/** The context as a protobuf `rr.tcp.v1.RequestContext`. */
export const protoContextCodec: ContextCodec = {
  name: "proto",
  frameFlags: CODEC_PROTO_FLAG,
  encode(context) {
    const bytes = RequestContext.encode(context).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  },
  decode(bytes) {
    try {
      const context = RequestContext.decode(new BinaryReader(bytes));
      if (context.event === TcpEvent.UNRECOGNIZED || !(context.event in TcpEvent)) context.event = TcpEvent.UNSPECIFIED;
      return context;
    } catch (err) {
      throw new ContextDecodeError(
        "proto",
        `invalid protobuf context (${bytes.length} bytes): ${(err as Error).message}`,
      );
    }
  },
};

/** The codec a request frame's flags call for: protobuf when CODEC_PROTO is set, else JSON. */
export function contextCodecForFlags(flags: number): ContextCodec {
  return flags & CODEC_PROTO_FLAG ? protoContextCodec : jsonContextCodec;
}

/** The codec a config value selects; unspecified means RoadRunner's JSON. */
export function contextCodecFor(kind: ContextCodecKind): ContextCodec {
  return kind === ContextCodecKind.PROTO ? protoContextCodec : jsonContextCodec;
}
