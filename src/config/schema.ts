/**
 * What each YAML key is, derived from the generated config types: the known keys of a section
 * are `Object.keys(X.create())`, and a key's kind follows its generated default (string, number,
 * boolean) unless it is listed here (durations, sub-sections, maps, enums, ranges). A key the
 * schema gains without a kind here is caught when this module loads, not silently ignored.
 */
import {
  Config,
  ContextCodec,
  ControlOptions,
  Framing,
  LogsOptions,
  PoolOptions,
  Routing,
  RpcOptions,
  ServerOptions,
  SupervisorOptions,
  TcpOptions,
  TcpServerOptions,
} from "../../gen/ts/rr/tcp/v1/options.js";

/** YAML names of a generated enum: its members without UNSPECIFIED/UNRECOGNIZED, lower-cased. */
export interface EnumNames {
  /** `delimiter`, `raw`, ... in schema order. */
  readonly names: readonly string[];
  /** The enum value of a (lower-case) name. */
  readonly byName: ReadonlyMap<string, number>;
  /** The name of an enum value; undefined for UNSPECIFIED. */
  readonly byValue: ReadonlyMap<number, string>;
}

/** The YAML names of a ts-proto enum object. */
export function enumNames(enumObject: Record<string, string | number>): EnumNames {
  const byName = new Map<string, number>();
  const byValue = new Map<number, string>();
  for (const [member, value] of Object.entries(enumObject)) {
    if (typeof value !== "number" || value <= 0) continue;
    byName.set(member.toLowerCase(), value);
    byValue.set(value, member.toLowerCase());
  }
  return { names: [...byName.keys()], byName, byValue };
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
  /** A fresh instance with the schema's zero values. */
  create(): Record<string, unknown>;
}

interface Creatable {
  create(): object;
}

function message(name: string, type: Creatable, overrides: Record<string, FieldKind>): MessageSpec {
  const zero = type.create() as Record<string, unknown>;
  const fields = new Map<string, FieldKind>();
  for (const [key, value] of Object.entries(zero)) {
    const override = overrides[key];
    if (override) fields.set(key, override);
    else if (typeof value === "string") fields.set(key, { kind: "string" });
    else if (typeof value === "number") fields.set(key, { kind: "uint" });
    else if (typeof value === "boolean") fields.set(key, { kind: "bool" });
    else throw new Error(`config schema: ${name}.${key} needs a kind in src/config/schema.ts`);
  }
  for (const key of Object.keys(overrides)) {
    if (!fields.has(key)) throw new Error(`config schema: ${name}.${key} is not a key of the generated type`);
  }
  return { name, fields, create: () => type.create() as Record<string, unknown> };
}

/** Server names, as RoadRunner's schema allows them. */
export const SERVER_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

export const FRAMING_NAMES = enumNames(Framing);
export const ROUTING_NAMES = enumNames(Routing);
export const CONTEXT_CODEC_NAMES = enumNames(ContextCodec);
/** RoadRunner's (zap's) log levels; dpanic, panic and fatal all log at pino's fatal. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "dpanic", "panic", "fatal"] as const;

const duration: FieldKind = { kind: "duration" };
const timerDuration: FieldKind = { kind: "duration", timer: true };

export const SUPERVISOR_SPEC = message("SupervisorOptions", SupervisorOptions, {
  watch_tick: timerDuration,
  ttl: duration,
  idle_ttl: duration,
  exec_ttl: timerDuration,
  max_worker_memory: { kind: "uint", unit: "MB" },
});

export const POOL_SPEC = message("PoolOptions", PoolOptions, {
  command: { kind: "command" },
  num_workers: { kind: "uint", max: 500 },
  allocate_timeout: timerDuration,
  destroy_timeout: timerDuration,
  reset_timeout: timerDuration,
  stream_timeout: timerDuration,
  supervisor: { kind: "message", message: SUPERVISOR_SPEC },
});

export const TCP_SERVER_SPEC = message("TcpServerOptions", TcpServerOptions, {
  framing: { kind: "enum", names: FRAMING_NAMES },
  routing: { kind: "enum", names: ROUTING_NAMES },
  length_bytes: { kind: "uint", allowed: [1, 2, 4] },
  max_message_size: { kind: "uint", min: 1, unit: "bytes" },
  idle_timeout: timerDuration,
});

export const TCP_SPEC = message("TcpOptions", TcpOptions, {
  servers: { kind: "map", message: TCP_SERVER_SPEC, keyPattern: SERVER_NAME_PATTERN },
  read_buf_size: { kind: "uint", min: 1, max: 100, unit: "MB" },
  pool: { kind: "message", message: POOL_SPEC },
  context_codec: { kind: "enum", names: CONTEXT_CODEC_NAMES },
  max_buffered_bytes: { kind: "uint", min: 1, unit: "bytes" },
});

export const SERVER_SPEC = message("ServerOptions", ServerOptions, {
  command: { kind: "command" },
  env: { kind: "env" },
  relay_timeout: timerDuration,
});

export const CONFIG_SPEC = message("Config", Config, {
  server: { kind: "message", message: SERVER_SPEC },
  tcp: { kind: "message", message: TCP_SPEC },
  rpc: { kind: "message", message: message("RpcOptions", RpcOptions, {}) },
  logs: {
    kind: "message",
    message: message("LogsOptions", LogsOptions, { level: { kind: "string", allowed: LOG_LEVELS } }),
  },
  control: { kind: "message", message: message("ControlOptions", ControlOptions, {}) },
});
