/**
 * Cross-language vectors: request contexts and option messages encoded by the TypeScript code
 * (the generated encoders and src/protocol's JSON codec), for the Python, Go, PHP, Java and C++
 * tests to decode field by field; and the same values encoded by each of them, for TypeScript to
 * decode.
 *
 * Regenerate every fixture of test/fixtures/cross-language after changing a vector or the schema:
 *
 *   npx tsx test/bindings/vectors.ts --write
 *
 * The tests fail while a committed fixture differs from what the code produces now.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Config, ContextCodec, Framing, PoolOptions, Routing } from "../../gen/ts/rr/tcp/v1/options.js";
import { RequestContext, TcpEvent, TcpResponse, WorkerReply } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { eventName, jsonContextCodec, protoContextCodec } from "../../src/protocol/index.js";
import { REPO_ROOT } from "../../scripts/gen-bindings.js";
import { bindingsXlang, goXlang, missingToolchain, pythonXlang, type BindingLanguage } from "./toolchain.js";

export const FIXTURE_DIR = join(REPO_ROOT, "test/fixtures/cross-language");
export const TS_FIXTURE = join(FIXTURE_DIR, "ts-encoded.json");
export const encodedFixture = (language: string): string => join(FIXTURE_DIR, `${language}-encoded.json`);

/** A JSON value: the neutral form messages are compared in across languages. */
export type Neutral = null | boolean | number | string | Neutral[] | { [key: string]: Neutral };

/**
 * A generated message as a neutral JSON value, the form the Python and Go dumpers write: every
 * field by its schema name (ts-proto keeps them with snakeToCamel=false), unset sub-messages as
 * null, enums as numbers, bytes as hex, 64-bit integers as numbers (the vectors stay below 2^53).
 */
export function neutral(value: unknown): Neutral {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (Array.isArray(value)) return value.map(neutral);
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, neutral(v)]));
  }
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  throw new TypeError(`no neutral form for ${typeof value}`);
}

export interface ContextVector {
  name: string;
  context: RequestContext;
}

const UUID = "6f1c4e1a-2b3d-4c5e-8f90-a1b2c3d4e5f6";

export const CONTEXT_VECTORS: ContextVector[] = [
  {
    name: "connected ipv4",
    context: { remote_addr: "127.0.0.1:54321", server: "server1", uuid: UUID, event: TcpEvent.CONNECTED },
  },
  {
    name: "data ipv6",
    context: { remote_addr: "[::1]:40000", server: "tcp.echo-2", uuid: UUID, event: TcpEvent.DATA },
  },
  {
    name: "close on a unix listener (empty address)",
    context: { remote_addr: "", server: "unix_sock", uuid: UUID, event: TcpEvent.CLOSE },
  },
  {
    // Go's json.Marshal escapes <, >, &, U+2028 and control characters; RoadRunner's contexts
    // are that encoding, so every language's JSON must read (and the encoders write) the same.
    name: "strings Go's JSON escapes",
    context: {
      remote_addr: "<a>&b",
      server: "sérveur ✓\u2028\ttab",
      uuid: 'quote " backslash \\ newline \n nul \u0000',
      event: TcpEvent.DATA,
    },
  },
  {
    name: "unspecified event (JSON: UNKNOWN)",
    context: { remote_addr: "10.0.0.1:1", server: "s", uuid: UUID, event: TcpEvent.UNSPECIFIED },
  },
  // A newer schema's event: protobuf keeps the number, every worker reports UNKNOWN.
  {
    name: "event number from a newer schema",
    context: { remote_addr: "10.0.0.2:2", server: "s", uuid: UUID, event: 7 as TcpEvent },
  },
];

/** A message of the schema other than the context, by its full protobuf name. */
export interface MessageVector {
  name: string;
  type: "rr.tcp.v1.Config" | "rr.tcp.v1.PoolOptions" | "rr.tcp.v1.WorkerReply";
  value: Config | PoolOptions | WorkerReply;
}

const fullPool = PoolOptions.fromPartial({
  command: ["/usr/bin/python3", "examples/python/echo_worker.py"],
  num_workers: 4,
  max_jobs: 1000,
  // Above 2^32: 64-bit fields must not be truncated to 32 bits anywhere.
  max_queue_size: 5_000_000_000,
  allocate_timeout: { seconds: 60, nanos: 0 },
  destroy_timeout: { seconds: 1, nanos: 500_000_000 },
  reset_timeout: { seconds: 0, nanos: 250_000_000 },
  debug: true,
  supervisor: {
    watch_tick: { seconds: 5, nanos: 0 },
    ttl: { seconds: 3600, nanos: 0 },
    idle_ttl: { seconds: 10, nanos: 0 },
    max_worker_memory: 128,
    exec_ttl: { seconds: 30, nanos: 1 },
  },
  stream_timeout: undefined,
});

export const MESSAGE_VECTORS: MessageVector[] = [
  {
    name: "config with every section",
    type: "rr.tcp.v1.Config",
    value: Config.fromPartial({
      version: "3",
      server: {
        command: ["/usr/bin/python3", "examples/python/echo_worker.py"],
        relay: "unix:///tmp/rr-relay.sock",
        // Keys sorted: map order on the wire is each encoder's choice; sorted keys keep the
        // fixtures readable and stable.
        env: { APP_ENV: "test", GREETING: "héllo wörld" },
        user: "",
        group: "",
        relay_timeout: { seconds: 60, nanos: 0 },
      },
      tcp: {
        servers: {
          echo: {
            addr: "127.0.0.1:7000",
            delimiter: "\r\n",
            framing: Framing.DELIMITER,
            routing: Routing.ANY,
            max_message_size: 1_048_576,
          },
          "raw.2": {
            addr: "unix:///tmp/raw.sock",
            delimiter: "",
            framing: Framing.LENGTH,
            length_bytes: 2,
            routing: Routing.STICKY,
            max_message_size: 8_589_934_592,
            max_connections: 100,
            idle_timeout: { seconds: 90, nanos: 0 },
          },
        },
        read_buf_size: 1,
        pool: fullPool,
        context_codec: ContextCodec.PROTO,
        processes: 2,
      },
      rpc: { listen: "tcp://127.0.0.1:6001" },
      logs: { level: "debug", mode: "production" },
      control: { addr: "127.0.0.1:2114" },
    }),
  },
  { name: "empty config (every field default)", type: "rr.tcp.v1.Config", value: Config.fromPartial({}) },
  { name: "pool options alone", type: "rr.tcp.v1.PoolOptions", value: fullPool },
  {
    name: "worker reply with binary body",
    type: "rr.tcp.v1.WorkerReply",
    value: WorkerReply.fromPartial({ verb: TcpResponse.WRITECLOSE, body: Buffer.from([0, 1, 0xff, 0x0d, 0x0a]) }),
  },
];

const MESSAGE_FNS = {
  "rr.tcp.v1.Config": Config,
  "rr.tcp.v1.PoolOptions": PoolOptions,
  "rr.tcp.v1.WorkerReply": WorkerReply,
} as const;

export function encodeMessage(vector: Pick<MessageVector, "type" | "value">): Buffer {
  const fns = MESSAGE_FNS[vector.type] as { encode(v: unknown): { finish(): Uint8Array } };
  return Buffer.from(fns.encode(vector.value).finish());
}

export function decodeMessage(type: MessageVector["type"], hex: string): Neutral {
  return neutral(MESSAGE_FNS[type].decode(Buffer.from(hex, "hex")));
}

/** One context vector in ts-encoded.json. */
export interface TsContextEntry {
  name: string;
  /** The fields, event as its number. */
  fields: { remote_addr: string; server: string; uuid: string; event: number };
  /** The event's wire string, what a worker reports (UNKNOWN for numbers the schema lacks). */
  event_name: string;
  /** jsonContextCodec's bytes, as text (they are UTF-8) and hex. */
  json: string;
  json_hex: string;
  /** RequestContext.encode's bytes. */
  proto_hex: string;
}

export interface TsMessageEntry {
  name: string;
  type: MessageVector["type"];
  fields: Neutral;
  proto_hex: string;
}

export interface TsFixture {
  about: string;
  contexts: TsContextEntry[];
  messages: TsMessageEntry[];
}

/** ts-encoded.json as the TypeScript code encodes it now. */
export function buildTsFixture(): TsFixture {
  return {
    about:
      "Encoded by the TypeScript code (gen/ts encoders, src/protocol jsonContextCodec) for the Python and Go tests to decode field by field. " +
      "Fields are in neutral form: schema field names, enums as numbers, bytes as hex, unset messages as null. Regenerate: npx tsx test/bindings/vectors.ts --write",
    contexts: CONTEXT_VECTORS.map(({ name, context }) => {
      const json = jsonContextCodec.encode(context);
      return {
        name,
        fields: { ...context },
        event_name: eventName(context.event),
        json: json.toString("utf8"),
        json_hex: json.toString("hex"),
        proto_hex: protoContextCodec.encode(context).toString("hex"),
      };
    }),
    messages: MESSAGE_VECTORS.map((vector) => ({
      name: vector.name,
      type: vector.type,
      fields: neutral(vector.value),
      proto_hex: encodeMessage(vector).toString("hex"),
    })),
  };
}

/** python-encoded.json and go-encoded.json: the same vectors encoded by the other languages. */
export interface EncodedFixture {
  about: string;
  contexts: { name: string; json: string; proto_hex: string }[];
  messages: { name: string; type: MessageVector["type"]; proto_hex: string }[];
}

export function fixtureText(value: unknown): string {
  return JSON.stringify(value, null, 1) + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes("--write")) {
    console.error("usage: npx tsx test/bindings/vectors.ts --write");
    process.exit(2);
  }
  mkdirSync(FIXTURE_DIR, { recursive: true });
  writeFileSync(TS_FIXTURE, fixtureText(buildTsFixture()));
  console.log(`wrote ${TS_FIXTURE}`);
  // The other languages encode the vectors they read from ts-encoded.json.
  const runs: [string, (args: string[]) => string][] = [
    ["python", pythonXlang],
    ["go", goXlang],
  ];
  for (const language of ["php", "java", "cpp"] as BindingLanguage[]) {
    const missing = missingToolchain(language);
    if (missing) console.error(`not written: ${encodedFixture(language)}: ${missing}`);
    else runs.push([language, (args) => bindingsXlang(language, args)]);
  }
  for (const [language, run] of runs) {
    const output = run(["encode", TS_FIXTURE]);
    writeFileSync(encodedFixture(language), fixtureText(JSON.parse(output)));
    console.log(`wrote ${encodedFixture(language)}`);
  }
}
