/**
 * The config keys' facts as the schema states them (the (spec) option on each field of
 * proto/rr/tcp/v1/options.proto, generated into option_specs.ts): defaults, units, ranges. Every
 * default rr-tcp applies comes from here, whether the options came from a .rr.yaml or from code
 * that builds them itself (a test, an embedding application).
 */
import type { Duration } from "../../gen/ts/google/protobuf/duration.js";
import * as messages from "../../gen/ts/rr/tcp/v1/options.js";
import { OPTION_SPECS, type KeyFacts } from "../../gen/ts/rr/tcp/v1/option_specs.js";
import { nanosToDuration, parseGoDurationNanos } from "./duration.js";

export { OPTION_SPECS, type KeyFacts };

/** The options messages by name, as their facts are keyed. */
export type OptionsMessage = keyof typeof OPTION_SPECS & string;

/** The facts of `message.key`. @throws Error for a key the schema does not have (a bug, not input). */
export function keyFacts(message: string, key: string): KeyFacts {
  const facts = OPTION_SPECS[message]?.[key];
  if (!facts) throw new Error(`options: ${message}.${key} is not in the schema`);
  return facts;
}

/**
 * A key's default as the generated types hold it: a number, string, boolean, enum number,
 * Duration, or a list of strings (written as a JSON array in the schema).
 */
export function defaultValue(facts: KeyFacts): string | number | boolean | Duration | string[] | undefined {
  const text = facts.default;
  if (text === "" || text === "{}") return undefined;
  switch (facts.kind) {
    case "list":
      return JSON.parse(text) as string[];
    case "string":
      return text;
    case "bool":
      return text === "true";
    case "uint32":
    case "uint64":
      return Number(text);
    case "enum":
      return facts.enumValues?.[text];
    case "duration": {
      const nanos = parseGoDurationNanos(text);
      return nanos === undefined ? undefined : nanosToDuration(nanos);
    }
  }
  return undefined;
}

/** The default of a number key (bytes, megabytes or a count). */
export function defaultNumber(message: string, key: string): number {
  const value = defaultValue(keyFacts(message, key));
  if (typeof value !== "number") throw new Error(`options: ${message}.${key} has no numeric default`);
  return value;
}

/** The default of a list key. */
export function defaultList(message: string, key: string): string[] {
  const value = defaultValue(keyFacts(message, key));
  if (!Array.isArray(value)) throw new Error(`options: ${message}.${key} has no list default`);
  return value;
}

/** The default of a duration key, in milliseconds. */
export function defaultMs(message: string, key: string): number {
  const value = defaultValue(keyFacts(message, key));
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`options: ${message}.${key} has no duration default`);
  }
  return value.seconds * 1000 + value.nanos / 1e6;
}

function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === 0 || value === "" || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object" && "seconds" in value && "nanos" in value) {
    const d = value as Duration;
    return d.seconds === 0 && d.nanos === 0;
  }
  return false;
}

function create(message: string): Record<string, unknown> {
  const type = (messages as unknown as Record<string, { create(): object } | undefined>)[message];
  if (!type) throw new Error(`options: no generated message ${message}`);
  return type.create() as Record<string, unknown>;
}

/**
 * Fills, in place, every key of `value` (an instance of `message`) that is unset with the
 * schema's default, and does the same in its sections: those whose default is "{}" are created
 * when absent, the others only filled when present. A zero value means "the default" (proto3
 * has no presence), as in RoadRunner.
 */
export function fillDefaults<T extends object>(message: OptionsMessage, value: T): T {
  const target = value as Record<string, unknown>;
  for (const [key, facts] of Object.entries(OPTION_SPECS[message]!)) {
    if (facts.kind === "message" && facts.message) {
      if (target[key] === undefined && facts.default === "{}") target[key] = create(facts.message);
      if (target[key] !== undefined) fillDefaults(facts.message, target[key] as object);
      continue;
    }
    if (facts.kind === "map" && facts.message) {
      for (const entry of Object.values((target[key] ?? {}) as Record<string, object>)) {
        fillDefaults(facts.message, entry);
      }
      continue;
    }
    // A key with presence (`optional` in the schema) keeps an explicit zero: `processes: 0` is one per CPU.
    if (facts.presence ? target[key] !== undefined : !isUnset(target[key])) continue;
    const fallback = defaultValue(facts);
    // A zero default ("0", "0s", false) is the unset value itself: the key stays as it is.
    if (!isUnset(fallback)) {
      target[key] = Array.isArray(fallback) ? [...fallback] : typeof fallback === "object" ? { ...fallback } : fallback;
    }
  }
  return value;
}
