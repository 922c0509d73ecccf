/**
 * Plain YAML data -> the generated config types, key by key along the schema of ./schema.ts.
 * Every problem is collected with its key path (decoding goes on past it). Unknown keys are
 * errors inside a section and sorted at the top (./unknown-keys.ts); compat keys that are set are
 * warnings (./compat.ts). `${VAR}` references in string values are expanded here, before each
 * value is read, so `num_workers: ${WORKERS:-4}` works.
 */
import type { Duration } from "../../gen/ts/google/protobuf/duration.js";
import { nanosToDuration, parseGoDurationNanos } from "../options/duration.js";
import { durationToMs } from "../protocol/index.js";
import { compatWarning, isSet } from "./compat.js";
import type { ConfigIssue } from "./errors.js";
import { expandEnv, type EnvLookup } from "./expand-env.js";
import type { FieldKind, MessageSpec } from "./schema.js";
import { reportUnknownTopLevelKeys, unknownKeyError } from "./unknown-keys.js";

/** The longest delay a Node timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where decoding reports to. */
export interface DecodeContext {
  readonly env: EnvLookup;
  readonly errors: ConfigIssue[];
  readonly warnings: ConfigIssue[];
  /** Key path -> the `${VAR}` names in its value that are not set (so an error there can say why). */
  readonly unset?: Map<string, string[]>;
  /** Decoding inside a compat key, which has had its warning: its own compat keys get none. */
  readonly withinCompat?: boolean;
}

/** Expands `${VAR}` in the value at `path`, noting the variables that are not set. */
function expand(text: string, path: string, ctx: DecodeContext): string {
  return expandEnv(text, ctx.env, (name) => {
    if (!ctx.unset) return;
    const names = ctx.unset.get(path) ?? [];
    if (!names.includes(name)) names.push(name);
    ctx.unset.set(path, names);
  });
}

/** A value in quotes as the messages show it: `"abc"`, `12`, `a list`. */
export function show(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a map";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Decodes one section (the whole file at path ""). Returns a fresh generated instance with the
 * values found (keys not in the YAML keep their zero value), or undefined when `value` is not a
 * map (an error is recorded, except for null, which counts as absent).
 */
export function decodeMessage(
  spec: MessageSpec,
  value: unknown,
  path: string,
  ctx: DecodeContext,
): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isMap(value)) {
    ctx.errors.push({
      path: path || "(file)",
      message: `must be a map of keys (${[...spec.fields.keys()].join(", ")}), got ${show(value)}`,
    });
    return undefined;
  }
  const out = spec.create();
  const known = [...spec.fields.keys()];
  const unknownTopLevel: string[] = [];
  for (const [key, raw] of Object.entries(value)) {
    const keyPath = join(path, key);
    const kind = spec.fields.get(key);
    if (!kind) {
      if (path === "") unknownTopLevel.push(key);
      else ctx.errors.push(unknownKeyError(keyPath, key, known));
      continue;
    }
    if (raw === null || raw === undefined) continue; // `key:` with nothing after it: as absent
    const compat = spec.compat.has(key) && !ctx.withinCompat;
    const decoded = decodeField(kind, raw, keyPath, compat ? { ...ctx, withinCompat: true } : ctx);
    if (decoded === undefined) continue;
    out[key] = decoded;
    if (compat && isSet(decoded)) ctx.warnings.push(compatWarning(spec.name, key, keyPath, show(decoded)));
  }
  if (unknownTopLevel.length > 0) reportUnknownTopLevelKeys(unknownTopLevel, known, ctx);
  return out;
}

function decodeField(kind: FieldKind, raw: unknown, path: string, ctx: DecodeContext): unknown {
  const fail = (message: string): undefined => {
    ctx.errors.push({ path, message });
    return undefined;
  };
  const value = typeof raw === "string" ? expand(raw, path, ctx) : raw;
  switch (kind.kind) {
    case "string": {
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
        return fail(`must be a string, got ${show(value)}`);
      const text = String(value);
      // Empty is "not set" (the default), as for every other key.
      if (kind.allowed && text !== "" && !kind.allowed.includes(text))
        return fail(`${show(text)} is not one of: ${kind.allowed.join(", ")}`);
      return text;
    }
    case "uint": {
      const n = toUint(value);
      if (n === undefined)
        return fail(`must be a non-negative integer${kind.unit ? ` (${kind.unit})` : ""}, got ${show(value)}`);
      if (n === 0) return 0; // zero means "the default" for every integer key
      if (kind.allowed && !kind.allowed.includes(n))
        return fail(`${n} is not allowed (allowed: ${kind.allowed.join(", ")})`);
      if ((kind.min !== undefined && n < kind.min) || (kind.max !== undefined && n > kind.max)) {
        const range = kind.max !== undefined ? `${kind.min ?? 0}..${kind.max}` : `at least ${kind.min}`;
        return fail(`${n} is out of range (${range}${kind.unit ? ` ${kind.unit}` : ""})`);
      }
      return n;
    }
    case "bool": {
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "false") return value === "true";
      return fail(`must be true or false, got ${show(value)}`);
    }
    case "duration": {
      const duration = decodeDuration(value, fail);
      // Node turns a longer timer into 1 ms (with a warning): an exec_ttl of 1000h would kill
      // every event at once, a destroy_timeout of 1000h would give up on shutdown at once.
      if (duration !== undefined && kind.timer && durationToMs(duration) > MAX_TIMER_MS) {
        return fail(`${show(value)} is longer than Node's longest timer, ${MAX_TIMER_MS} ms (about 24.8 days)`);
      }
      // RoadRunner reads a bare integer as nanoseconds too; `allocate_timeout: 60` is almost
      // certainly meant as seconds, and would fail every event at once.
      if (duration !== undefined && typeof value === "number" && value > 0 && value < 1_000_000) {
        ctx.warnings.push({
          path,
          message: `${value} is ${value} nanoseconds (a bare integer is nanoseconds, as in RoadRunner); write a unit, e.g. ${value}s`,
        });
      }
      return duration;
    }
    case "command":
      return decodeCommand(value, fail);
    case "env":
      return decodeEnv(value, path, ctx);
    case "enum": {
      const name = typeof value === "string" ? value.trim().toLowerCase() : undefined;
      const found = name === undefined ? undefined : kind.names.byName.get(name);
      if (found === undefined) return fail(`${show(value)} is not one of: ${kind.names.names.join(", ")}`);
      return found;
    }
    case "message":
      return decodeMessage(kind.message, value, path, ctx);
    case "map": {
      if (!isMap(value)) return fail(`must be a map of named entries, got ${show(value)}`);
      const out: Record<string, unknown> = {};
      for (const [name, entry] of Object.entries(value)) {
        const entryPath = join(path, name);
        if (!kind.keyPattern.test(name)) {
          ctx.errors.push({ path: entryPath, message: `the name ${show(name)} must match ${kind.keyPattern.source}` });
          continue;
        }
        out[name] = decodeMessage(kind.message, entry ?? {}, entryPath, ctx) ?? kind.message.create();
      }
      return out;
    }
  }
}

function toUint(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === "string" && /^\s*\d+\s*$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function decodeDuration(value: unknown, fail: (message: string) => undefined): Duration | undefined {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      return fail(`${value} is not a duration (a bare integer is nanoseconds; e.g. 60s, 1m30s)`);
    if (value < 0) return fail(`${value} is out of range (must not be negative)`);
    return nanosToDuration(value);
  }
  if (typeof value !== "string") return fail(`${show(value)} is not a duration (e.g. 60s, 1m30s)`);
  if (value.trim().startsWith("-")) return fail(`${show(value)} is out of range (must not be negative)`);
  const nanos = parseGoDurationNanos(value);
  if (nanos === undefined) return fail(`${show(value)} is not a duration (e.g. 60s, 1m30s)`);
  return nanosToDuration(nanos);
}

function decodeCommand(value: unknown, fail: (message: string) => undefined): string[] | undefined {
  if (typeof value === "string") return value.split(/\s+/).filter((part) => part !== "");
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const [index, part] of value.entries()) {
      if (typeof part !== "string" && typeof part !== "number")
        return fail(`item ${index} must be a string, got ${show(part)}`);
      parts.push(String(part));
    }
    return parts;
  }
  return fail(`must be a command string ("node worker.js") or a list of strings, got ${show(value)}`);
}

function decodeEnv(value: unknown, path: string, ctx: DecodeContext): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const add = (key: string, raw: unknown, keyPath: string): void => {
    if (raw === null || raw === undefined) raw = "";
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
      ctx.errors.push({ path: keyPath, message: `must be a string, got ${show(raw)}` });
      return;
    }
    out[key.toUpperCase()] = typeof raw === "string" ? expand(raw, keyPath, ctx) : String(raw);
  };
  if (isMap(value)) {
    for (const [key, raw] of Object.entries(value)) add(key, raw, join(path, key));
    return out;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      if (!isMap(item) || Object.keys(item).length !== 1) {
        ctx.errors.push({
          path: `${path}[${index}]`,
          message: `must be a one-key map (- NAME: value), got ${show(item)}`,
        });
        continue;
      }
      const [key, raw] = Object.entries(item)[0] as [string, unknown];
      add(key, raw, `${path}[${index}].${key}`);
    }
    return out;
  }
  ctx.errors.push({ path, message: `must be a map (NAME: value) or a list of one-key maps, got ${show(value)}` });
  return undefined;
}
