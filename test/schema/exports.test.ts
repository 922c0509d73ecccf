/**
 * The `rr-tcp/schema` and `rr-tcp/schema/goridge` entry points (src/schema) name every type and
 * codec the generated files of their schema package declare, as the very same objects, so a
 * message added to proto/ and regenerated cannot be left out of the published exports unnoticed.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as goridgeSchema from "../../src/schema/goridge.js";
import * as tcpSchema from "../../src/schema/index.js";

const root = new URL("../../", import.meta.url).pathname;
const TCP_GEN = join(root, "gen/ts/rr/tcp/v1");
const GORIDGE_GEN = join(root, "gen/ts/rr/goridge/v1");

/** Every generated file of a package's folder. */
function generatedFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name));
}

/** The names each module exports, types included, as the TypeScript checker sees them. */
function exportedNames(files: readonly string[]): Map<string, Set<string>> {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const names = new Map<string, Set<string>>();
  for (const file of files) {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    names.set(file, new Set(checker.getExportsOfModule(symbol).map((s) => s.name)));
  }
  return names;
}

/** What every generated file declares for itself and the index renames per file. */
const PER_FILE = "protobufFileName";

const TCP_INDEX = join(root, "src/schema/index.ts");
const GORIDGE_INDEX = join(root, "src/schema/goridge.ts");
// One program for both entry points: building it is most of this file's time.
const names = exportedNames([TCP_INDEX, GORIDGE_INDEX, ...generatedFiles(TCP_GEN), ...generatedFiles(GORIDGE_GEN)]);

describe("rr-tcp/schema", () => {
  const index = TCP_INDEX;
  const files = generatedFiles(TCP_GEN);

  it("exports every name of every generated file of rr.tcp.v1", () => {
    const exported = names.get(index)!;
    const missing = files.flatMap((file) =>
      [...names.get(file)!].filter((name) => name !== PER_FILE && !exported.has(name)).map((n) => `${n} (${file})`),
    );
    expect(missing).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(5); // tcp, options, control, option_spec, option_specs
  });

  it("exports the generated values themselves, and each file's name under its own", async () => {
    for (const file of files) {
      const generated = (await import(file)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(generated)) {
        if (name === PER_FILE) continue;
        expect((tcpSchema as Record<string, unknown>)[name], `${name} of ${file}`).toBe(value);
      }
    }
    expect(tcpSchema.protobufPackage).toBe("rr.tcp.v1");
    expect([
      tcpSchema.tcpProtoFileName,
      tcpSchema.optionsProtoFileName,
      tcpSchema.controlProtoFileName,
      tcpSchema.optionSpecProtoFileName,
    ]).toEqual(["rr/tcp/v1/tcp.proto", "rr/tcp/v1/options.proto", "rr/tcp/v1/control.proto", "rr/tcp/v1/option_spec.proto"]);
  });

  it("round-trips a request context through its codec", () => {
    const context = tcpSchema.RequestContext.create({
      remote_addr: "127.0.0.1:1",
      server: "main",
      uuid: "u",
      event: tcpSchema.TcpEvent.DATA,
    });
    expect(tcpSchema.RequestContext.decode(tcpSchema.RequestContext.encode(context).finish())).toEqual(context);
  });
});

describe("rr-tcp/schema/goridge", () => {
  it("exports every name of rr.goridge.v1, as the generated objects", async () => {
    const index = GORIDGE_INDEX;
    const files = generatedFiles(GORIDGE_GEN);
    for (const file of files) {
      expect([...names.get(file)!].filter((name) => !names.get(index)!.has(name)), file).toEqual([]);
      const generated = (await import(file)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(generated)) {
        expect((goridgeSchema as Record<string, unknown>)[name], name).toBe(value);
      }
    }
    expect(goridgeSchema.protobufPackage).toBe("rr.goridge.v1");
  });
});
