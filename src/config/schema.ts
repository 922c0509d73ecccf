/**
 * What each YAML key is, read from the schema: the known keys of a section and each key's kind,
 * range, unit and allowed values come from the (spec) option of its field in options.proto
 * (src/options). Only what the schema cannot say is here: the pattern of server names.
 */
import { OPTION_SPECS, type KeyFacts } from "../options/index.js";
import * as messages from "../../gen/ts/rr/tcp/v1/options.js";

/** YAML names of a generated enum: its members without UNSPECIFIED/UNRECOGNIZED, lower-cased. */
export interface EnumNames {
  /** `delimiter`, `raw`, ... in schema order. */
  readonly names: readonly string[];
  /** The enum value of a (lower-case) name. */
  readonly byName: ReadonlyMap<string, number>;
  /** The name of an enum value; undefined for UNSPECIFIED. */
  readonly byValue: ReadonlyMap<number, string>;
}

export type FieldKind =
  | { readonly kind: "string"; readonly allowed?: readonly string[] }
  | {
      readonly kind: "uint";
      readonly min?: number;
      readonly max?: number;
      readonly allowed?: readonly number[];
      readonly unit?: string;
    }
  | { readonly kind: "bool" }
  /** `timer`: it becomes a Node timer, so it must fit one (at most 2^31-1 ms, about 24.8 days). */
  | { readonly kind: "duration"; readonly timer?: boolean }
  /** A command line: a string split on whitespace, or a list of strings. */
  | { readonly kind: "command" }
  /** Environment: a map, or a list of one-key maps; keys upper-cased. */
  | { readonly kind: "env" }
  | { readonly kind: "enum"; readonly names: EnumNames }
  | { readonly kind: "message"; readonly message: MessageSpec }
  | { readonly kind: "map"; readonly message: MessageSpec; readonly keyPattern: RegExp };

/** One config section: the generated type's known keys and each key's kind. */
export interface MessageSpec {
  /** The generated message name, for diagnostics. */
  readonly name: string;
  readonly fields: ReadonlyMap<string, FieldKind>;
  /** The keys accepted for compatibility only (origin compat in the schema): RoadRunner has them, rr-tcp does not use them. */
  readonly compat: ReadonlySet<string>;
  /** A fresh instance with the schema's zero values. */
  create(): Record<string, unknown>;
}

/** Largest value of a uint32 key: the type's own range is checked like any other. */
const UINT32_MAX = 0xffffffff;

const UNIT_NAMES: Readonly<Record<string, string | undefined>> = { bytes: "bytes", megabytes: "MB" };

function enumNamesOf(values: Readonly<Record<string, number>>): EnumNames {
  const byName = new Map(Object.entries(values));
  const byValue = new Map([...byName].map(([name, value]) => [value, name]));
  return { names: [...byName.keys()], byName, byValue };
}

function kindOf(name: string, key: string, facts: KeyFacts): FieldKind {
  switch (facts.kind) {
    case "string":
      return facts.allowed ? { kind: "string", allowed: facts.allowed } : { kind: "string" };
    case "bool":
      return { kind: "bool" };
    case "uint32":
    case "uint64": {
      const max = facts.max !== undefined ? Number(facts.max) : facts.kind === "uint32" ? UINT32_MAX : undefined;
      return {
        kind: "uint",
        ...(facts.min !== undefined && { min: Number(facts.min) }),
        ...(max !== undefined && { max }),
        ...(facts.allowed && { allowed: facts.allowed.map(Number) }),
        ...(UNIT_NAMES[facts.unit] !== undefined && { unit: UNIT_NAMES[facts.unit] }),
      };
    }
    case "duration":
      return facts.timer ? { kind: "duration", timer: true } : { kind: "duration" };
    case "enum":
      return { kind: "enum", names: enumNamesOf(facts.enumValues ?? {}) };
    case "list":
      return { kind: "command" };
    case "map":
      return facts.message
        ? { kind: "map", message: messageSpec(facts.message), keyPattern: SERVER_NAME_PATTERN }
        : { kind: "env" };
    case "message":
      return { kind: "message", message: messageSpec(facts.message!) };
  }
  throw new Error(`config schema: ${name}.${key} has kind ${facts.kind}, which the loader cannot read`);
}

/** The spec of one options message, from the schema. */
function messageSpec(name: string): MessageSpec {
  const keys = OPTION_SPECS[name];
  const type = (messages as unknown as Record<string, { create(): object } | undefined>)[name];
  if (!keys || !type) throw new Error(`config schema: no options message ${name}`);
  const fields = new Map<string, FieldKind>();
  const compat = new Set<string>();
  for (const [key, facts] of Object.entries(keys)) {
    fields.set(key, kindOf(name, key, facts));
    if (facts.origin === "compat") compat.add(key);
  }
  return { name, fields, compat, create: () => type.create() as Record<string, unknown> };
}

/** Server names, as RoadRunner's schema allows them. */
export const SERVER_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

/** RoadRunner's (zap's) log levels; dpanic, panic and fatal all log at pino's fatal. */
export const LOG_LEVELS = OPTION_SPECS.LogsOptions!.level!.allowed as readonly string[];

export const CONFIG_SPEC = messageSpec("Config");
