/**
 * The generated JSON Schema (schema/rr-tcp.schema.json, for editors) accepts RoadRunner's own
 * configs as rr-tcp loads them, and refuses what the loader refuses in rr-tcp's sections.
 */
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { defaultConfigData } from "../../src/config/index.js";

const schema = JSON.parse(readFileSync("schema/rr-tcp.schema.json", "utf8")) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function errorsOf(yaml: string): string[] {
  return validate(parse(yaml)) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe("the config's JSON Schema", () => {
  // The upstream vector (a copy of the shared RoadRunner config) and the layout of RoadRunner's docs.
  for (const file of ["test/fixtures/roadrunner-tcp.rr.yaml", "test/fixtures/roadrunner-docs-tcp.rr.yaml"]) {
    it(`validates ${file}`, () => {
      expect(errorsOf(readFileSync(file, "utf8"))).toEqual([]);
    });
  }

  it("validates the built-in config and sections of other RoadRunner plugins beside rr-tcp's", () => {
    expect(validate(defaultConfigData()), JSON.stringify(validate.errors)).toBe(true);
    expect(errorsOf("http:\n  address: 0.0.0.0:8080\ntcp:\n  servers:\n    a: { addr: ':7000' }\n")).toEqual([]);
  });

  it("refuses a typo'd key, a value out of range, a bad enum name and a bad duration, naming where", () => {
    const base = "tcp:\n  servers:\n    a: { addr: ':7000' }\n  pool:\n";
    expect(errorsOf(`${base}    num_worker: 2\n`)).toContainEqual("/tcp/pool must NOT have additional properties");
    expect(errorsOf(`${base}    num_workers: 501\n`).some((e) => e.startsWith("/tcp/pool/num_workers"))).toBe(true);
    expect(
      errorsOf(`${base}    allocate_timeout: 60 seconds\n`).some((e) => e.startsWith("/tcp/pool/allocate_timeout")),
    ).toBe(true);
    expect(
      errorsOf(`tcp:\n  servers:\n    a: { addr: ':7000', framing: lines }\n`).some((e) =>
        e.startsWith("/tcp/servers/a/framing"),
      ),
    ).toBe(true);
    expect(
      errorsOf(`tcp:\n  servers:\n    a: { addr: ':7000', length_bytes: 3 }\n`).some((e) =>
        e.startsWith("/tcp/servers/a/length_bytes"),
      ),
    ).toBe(true);
    expect(errorsOf(`tcp:\n  servers:\n    a: { delimiter: "\\n" }\n`)).toContainEqual(
      "/tcp/servers/a must have required property 'addr'",
    );
  });

  it("takes ${VAR} references where the loader expands them", () => {
    expect(errorsOf("tcp:\n  servers:\n    a: { addr: ':7000' }\n  pool:\n    num_workers: ${WORKERS:-4}\n")).toEqual(
      [],
    );
  });
});
