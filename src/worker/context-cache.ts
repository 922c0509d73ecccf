/**
 * Decoded request contexts, kept by their bytes. The server sends the same context bytes for every
 * event of one kind on one connection (the uuid, address and server do not change), so a worker
 * parses each distinct context once, not once per event: a DATA event on a known connection costs
 * a hash and a compare of its context bytes, no JSON.parse.
 */
import type { RequestContext } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { CODEC_PROTO_FLAG, contextCodecForFlags } from "../protocol/index.js";

// Direct-mapped: a slot per hash, the newest context wins. Enough for the connections one worker
// serves in turn; a collision costs a parse, never a wrong context (the bytes are compared).
const SLOTS = 256;
// Contexts longer than this (no real one is) are parsed every time rather than kept.
const MAX_CACHED_BYTES = 1024;

interface Slot {
  readonly codec: number;
  readonly bytes: Buffer;
  readonly context: Readonly<RequestContext>;
}

const slots: Array<Slot | undefined> = new Array<Slot | undefined>(SLOTS);

/**
 * The context `bytes` decode to, with the codec `flags` call for (protobuf with CODEC_PROTO, else
 * JSON). The object is shared by every event with the same bytes, so it is frozen.
 *
 * @throws ContextDecodeError for bytes that do not decode (never cached).
 */
export function decodeContext(flags: number, bytes: Buffer): Readonly<RequestContext> {
  const codec = flags & CODEC_PROTO_FLAG;
  const length = bytes.length;
  if (length > MAX_CACHED_BYTES) return Object.freeze(contextCodecForFlags(flags).decode(bytes));
  // FNV-1a over the bytes.
  let hash = 0x811c9dc5 ^ codec;
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  const index = (hash ^ (hash >>> 16)) & (SLOTS - 1);
  const slot = slots[index];
  if (slot !== undefined && slot.codec === codec && slot.bytes.equals(bytes)) return slot.context;
  const context = Object.freeze(contextCodecForFlags(flags).decode(bytes));
  // A copy: `bytes` is a view into a read buffer that must not stay alive for the cache.
  slots[index] = { codec, bytes: Buffer.from(bytes), context };
  return context;
}
