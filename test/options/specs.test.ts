/**
 * The schema is the one source of the config's defaults, units and ranges, and of the goridge
 * frame flags: every options field carries its (spec), the generated descriptions are what the
 * loader uses, and no default or flag value is restated in src/.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createFileRegistry, fromBinary, hasExtension } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { FrameFlag, StreamBit } from "../../gen/ts/rr/goridge/v1/goridge.js";
import { Config } from "../../gen/ts/rr/tcp/v1/options.js";
import { applyDefaults } from "../../src/config/index.js";
import { defaultValue, fillDefaults, OPTION_SPECS } from "../../src/options/index.js";

function optionsFile() {
  const image = execFileSync(
    "npx",
    ["--no-install", "buf", "build", "--as-file-descriptor-set", "-o", "-#format=binpb"],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, image));
  const ext = registry.getExtension("rr.tcp.v1.spec");
  const file = registry.getFile("rr/tcp/v1/options.proto");
  if (!ext || !file) throw new Error("the image lacks options.proto or its spec extension");
  return { ext, file };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** The code of a file without its comments, each line with its number. */
function codeLines(path: string): Array<[number, string]> {
  const text = readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  return text.split("\n").map((line, i): [number, string] => [i + 1, line.replace(/\/\/.*$/, "")]);
}

describe("the options schema", () => {
  it("gives every field of every options message its (spec): default, unit, range, origin", () => {
    const { ext, file } = optionsFile();
    const missing: string[] = [];
    let fields = 0;
    for (const message of file.messages) {
      for (const field of message.fields) {
        fields++;
        if (!field.proto.options || !hasExtension(field.proto.options, ext))
          missing.push(`${message.name}.${field.name}`);
        // What the loader reads is what the descriptor says.
        expect(
          OPTION_SPECS[message.name]?.[field.name],
          `${message.name}.${field.name} in option_specs.ts`,
        ).toBeDefined();
      }
      expect(Object.keys(OPTION_SPECS[message.name]!)).toEqual(message.fields.map((f) => f.name));
    }
    expect(missing).toEqual([]);
    expect(fields).toBeGreaterThan(40);
  });

  it("states a default that parses for every key that has one", () => {
    for (const [message, keys] of Object.entries(OPTION_SPECS)) {
      for (const [key, facts] of Object.entries(keys)) {
        if (facts.default === "" || facts.default === "{}") continue;
        expect(defaultValue(facts), `${message}.${key} default ${JSON.stringify(facts.default)}`).not.toBeUndefined();
        if (facts.enumValues) expect(Object.keys(facts.enumValues)).toContain(facts.default);
        if (facts.allowed) expect(facts.allowed).toContain(facts.default);
      }
    }
  });

  it("is what the loader applies: the defaults of an empty config are the schema's", () => {
    const config = applyDefaults(Config.create(), 3);
    expect(config.server!.relay).toBe(OPTION_SPECS.ServerOptions!.relay!.default);
    expect(config.tcp!.read_buf_size).toBe(Number(OPTION_SPECS.TcpOptions!.read_buf_size!.default));
    expect(config.tcp!.pool!.allocate_timeout).toEqual({ seconds: 60, nanos: 0 });
    expect(config.tcp!.pool!.max_frame_size).toBe(268435456);
    expect(config.tcp!.pool!.num_workers).toBe(3);
    expect(config.logs!.level).toBe("info");
    // Sections whose default is not "{}" stay absent: no supervisor, no RPC, no control API.
    expect(config.tcp!.pool!.supervisor).toBeUndefined();
    expect(config.rpc).toBeUndefined();
    const supervisor = fillDefaults("SupervisorOptions", { watch_tick: undefined, ttl: undefined });
    expect(supervisor.watch_tick).toEqual({ seconds: 5, nanos: 0 });
    expect(supervisor.ttl).toBeUndefined();
  });
});

describe("src/ restates nothing the schema states", () => {
  const files = sourceFiles("src");

  it("has no frame flag or stream bit value as a literal outside the generated enums", () => {
    const values = [...Object.values(FrameFlag), ...Object.values(StreamBit)].filter(
      (v): v is number => typeof v === "number" && v > 0,
    );
    const literal = new RegExp(`\\b(${values.map((v) => `0x${v.toString(16).padStart(2, "0")}`).join("|")})\\b`, "i");
    const found: string[] = [];
    for (const file of files) {
      for (const [n, line] of codeLines(file)) {
        // JSON string escapes (\b is 0x08, \t 0x09) are characters, not flags.
        if (file.endsWith("go-json.ts")) continue;
        if (literal.test(line)) found.push(`${file}:${n}: ${line.trim()}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("has no duration or size default written out (60 s, 1 MiB, 256 MiB)", () => {
    const defaults = /\b(60_?000|1_?048_?576|268_?435_?456)\b|\b256 \* 1024 \* 1024\b/;
    const found: string[] = [];
    for (const file of files) {
      for (const [n, line] of codeLines(file)) {
        if (defaults.test(line)) found.push(`${file}:${n}: ${line.trim()}`);
      }
    }
    expect(found).toEqual([]);
  });
});
