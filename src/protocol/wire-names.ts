/**
 * RoadRunner's wire strings for events and verbs, derived from the generated enums: ts-proto's
 * removeEnumPrefix turns TCP_EVENT_CONNECTED into the member `TcpEvent.CONNECTED`, and a
 * TypeScript numeric enum maps values back to member names, so the schema is the only place
 * these strings are written.
 */
import { TcpEvent, TcpResponse } from "../../gen/ts/rr/tcp/v1/tcp.js";

function namesOf<E extends number>(enumObject: Record<string, string | number>, skip: readonly E[]): Map<E, string> {
  const names = new Map<E, string>();
  for (const [name, value] of Object.entries(enumObject)) {
    if (typeof value === "number" && value >= 0 && !skip.includes(value as E)) names.set(value as E, name);
  }
  return names;
}

const EVENT_NAMES = namesOf<TcpEvent>(TcpEvent, [TcpEvent.UNSPECIFIED]);
const EVENTS_BY_NAME = new Map([...EVENT_NAMES].map(([value, name]) => [name, value]));
const VERB_NAMES = namesOf<TcpResponse>(TcpResponse, [TcpResponse.UNSPECIFIED]);
const VERBS_BY_NAME = new Map([...VERB_NAMES].map(([value, name]) => [name, value]));
const VERB_BYTES = new Map([...VERB_NAMES].map(([value, name]) => [value, Buffer.from(name, "latin1")]));

/** The wire string of an event (`CONNECTED`, `DATA`, `CLOSE`); `UNKNOWN` for anything else, as PHP. */
export function eventName(event: TcpEvent): string {
  return EVENT_NAMES.get(event) ?? "UNKNOWN";
}

/** The event for a wire string; `TcpEvent.UNSPECIFIED` for strings this schema does not know. */
export function eventFromName(name: unknown): TcpEvent {
  return (typeof name === "string" && EVENTS_BY_NAME.get(name)) || TcpEvent.UNSPECIFIED;
}

/** The wire string of a verb (`WRITE`, `WRITECLOSE`, `CONTINUE`, `CLOSE`). */
export function verbName(verb: TcpResponse): string {
  const name = VERB_NAMES.get(verb);
  if (name === undefined) throw new RangeError(`not a TCP response verb: ${verb}`);
  return name;
}

/** The verb's wire bytes, shared and preallocated: callers must not modify them. */
export function verbBytes(verb: TcpResponse): Buffer {
  const bytes = VERB_BYTES.get(verb);
  if (bytes === undefined) throw new RangeError(`not a TCP response verb: ${verb}`);
  return bytes;
}

/**
 * The verb a worker's reply context names, compared byte for byte as RoadRunner does (no
 * trimming, case-sensitive); `TcpResponse.UNSPECIFIED` for anything else.
 */
export function verbFromBytes(context: Uint8Array): TcpResponse {
  // Verbs are 4..10 ASCII bytes: skip the decode for anything longer.
  if (context.length > 10 || context.length < 4) return TcpResponse.UNSPECIFIED;
  return (
    VERBS_BY_NAME.get(Buffer.from(context.buffer, context.byteOffset, context.length).toString("latin1")) ??
    TcpResponse.UNSPECIFIED
  );
}

/** All wire names, for documentation and tests. */
export const WIRE_EVENT_NAMES: readonly string[] = [...EVENT_NAMES.values()];
export const WIRE_VERB_NAMES: readonly string[] = [...VERB_NAMES.values()];
