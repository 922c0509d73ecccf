/**
 * The PHP bindings (gen/php, the Composer package rr-tcp/proto) and examples/php/ProtoContext.php,
 * the helper that lets a spiral/roadrunner-tcp worker read protobuf contexts, run with Debian's
 * php-cli and php-google-protobuf. There is no Composer here: test/bindings/php/bootstrap.php
 * autoloads from gen/php/composer.json's own PSR-4 map.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { FrameFlag } from "../../src/goridge/index.js";
import { jsonContextCodec, protoContextCodec } from "../../src/protocol/index.js";
import { SCHEMA_VERSION } from "../../src/protocol/schema-version.js";
import { describeBindings } from "./cross-language.js";
import { bindingsXlang, REPO_ROOT } from "./toolchain.js";
import { TS_FIXTURE, type TsFixture } from "./vectors.js";

const PROTO_CONTEXT = join(REPO_ROOT, "examples/php/ProtoContext.php");

interface HelperCase {
  name: string;
  flags: number;
  options: number[];
  payload_hex: string;
}

type Attempt<T> = { ok: T } | { error: string; message: string };

interface HelperResult {
  name: string;
  from_frame: { context: Record<string, string>; body_hex: string } | { error: string; message: string };
  detect: number;
  request: Attempt<Record<string, string>>;
}

const frameCase = (name: string, flags: number, context: Buffer, body: Buffer): HelperCase => ({
  name,
  flags,
  options: [context.length],
  payload_hex: Buffer.concat([context, body]).toString("hex"),
});

describeBindings("php", () => {
  const tsFixture = JSON.parse(readFileSync(TS_FIXTURE, "utf8")) as TsFixture;

  it("composer.json: rr-tcp/proto at the schema version, on google/protobuf, whose PSR-4 map loads every generated class", () => {
    const composer = JSON.parse(readFileSync(join(REPO_ROOT, "gen/php/composer.json"), "utf8")) as {
      name: string;
      version: string;
      require: Record<string, string>;
      autoload: { "psr-4": Record<string, string> };
    };
    expect(composer).toMatchObject({ name: "rr-tcp/proto", version: SCHEMA_VERSION });
    expect(composer.require["google/protobuf"]).toMatch(/^\^3\.21/);
    const { loaded, missing } = JSON.parse(bindingsXlang("php", ["autoload"])) as {
      loaded: string[];
      missing: string[];
    };
    expect(missing).toEqual([]);
    expect(loaded).toContain("Rr\\Tcp\\V1\\RequestContext");
    expect(loaded).toContain("Rr\\Tcp\\V1\\GPBMetadata\\Tcp");
    expect(loaded).toContain("Rr\\Goridge\\V1\\FrameFlag");
  });

  it("ProtoContext decodes every vector in both codecs as spiral's TcpWorker would see it", () => {
    const decoded = JSON.parse(bindingsXlang("php", ["decode", TS_FIXTURE])) as {
      contexts: { name: string; proto_request: unknown; json_request: unknown }[];
    };
    for (const [i, vector] of tsFixture.contexts.entries()) {
      const asRequest = { ...vector.fields, event: vector.event_name };
      expect(decoded.contexts[i]!.proto_request, `${vector.name}: CODEC_PROTO`).toEqual(asRequest);
      expect(decoded.contexts[i]!.json_request, `${vector.name}: JSON`).toEqual(asRequest);
    }
  });

  it("ProtoContext: frames by their flags, Spiral Requests by the context's first byte, and errors that say what is wrong", () => {
    const context = (event: TcpEvent): RequestContext => ({
      remote_addr: "[::1]:5000",
      server: "echo",
      uuid: "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b",
      event,
    });
    const body = Buffer.from([0x68, 0x69, 0x00, 0xff, 0x0a]);
    const cases: HelperCase[] = [
      frameCase("proto DATA", FrameFlag.CODEC_PROTO, protoContextCodec.encode(context(TcpEvent.DATA)), body),
      frameCase("json CONNECTED", 0, jsonContextCodec.encode(context(TcpEvent.CONNECTED)), Buffer.alloc(0)),
      frameCase("proto newer event", FrameFlag.CODEC_PROTO, protoContextCodec.encode(context(7 as TcpEvent)), body),
      // Every field default: zero bytes of context, still a protobuf one.
      frameCase("proto empty", FrameFlag.CODEC_PROTO, Buffer.alloc(0), body),
      frameCase("bad json", 0, Buffer.from("{not json"), body),
      frameCase("bad proto", FrameFlag.CODEC_PROTO, Buffer.from([0x0a, 0x7f]), body),
      frameCase("proto bytes without the flag", 0, protoContextCodec.encode(context(TcpEvent.DATA)), body),
      { name: "two options", flags: 0, options: [1, 2], payload_hex: "7b7d" },
      { name: "context longer than the payload", flags: 0, options: [9], payload_hex: "7b7d" },
    ];
    const results = JSON.parse(bindingsXlang("php", ["helper"], JSON.stringify(cases))) as HelperResult[];
    const byName = new Map(results.map((r) => [r.name, r]));
    const at = (name: string): HelperResult => byName.get(name)!;
    const request = (event: string, bodyHex: string): Record<string, string> => ({
      remoteAddr: "[::1]:5000",
      event,
      body_hex: bodyHex,
      connectionUuid: "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b",
      server: "echo",
    });
    const decoded = (event: string): Record<string, string> => ({ ...context(TcpEvent.DATA), event });

    expect(at("proto DATA")).toEqual({
      name: "proto DATA",
      from_frame: { context: decoded("DATA"), body_hex: body.toString("hex") },
      detect: FrameFlag.CODEC_PROTO,
      request: { ok: request("DATA", body.toString("hex")) },
    });
    expect(at("json CONNECTED")).toEqual({
      name: "json CONNECTED",
      from_frame: { context: decoded("CONNECTED"), body_hex: "" },
      detect: 0,
      request: { ok: request("CONNECTED", "") },
    });
    expect(at("proto newer event").from_frame).toMatchObject({ context: decoded("UNKNOWN") });
    expect(at("proto newer event").request).toEqual({ ok: request("UNKNOWN", body.toString("hex")) });
    expect(at("proto empty").from_frame).toEqual({
      context: { remote_addr: "", server: "", uuid: "", event: "UNKNOWN" },
      body_hex: body.toString("hex"),
    });
    expect(at("proto empty").detect).toBe(FrameFlag.CODEC_PROTO);
    expect(at("bad json").from_frame).toMatchObject({
      error: "UnexpectedValueException",
      message: expect.stringMatching(/invalid JSON context/),
    });
    expect(at("bad proto").from_frame).toMatchObject({
      error: "UnexpectedValueException",
      message: expect.stringMatching(/invalid protobuf context \(2 bytes\)/),
    });
    // Flags decide for a frame: protobuf bytes flagged as JSON are not JSON. Detection by the
    // first byte (what request() does without flags) still reads them.
    expect(at("proto bytes without the flag").from_frame).toMatchObject({ error: "UnexpectedValueException" });
    expect(at("proto bytes without the flag").request).toEqual({ ok: request("DATA", body.toString("hex")) });
    expect(at("two options").from_frame).toMatchObject({ message: expect.stringMatching(/exactly one option/) });
    expect(at("context longer than the payload").from_frame).toMatchObject({
      message: expect.stringMatching(/outside the payload/),
    });
  });

  it("ProtoContext reads JSON contexts without gen/php or google/protobuf, and names what a protobuf one needs", () => {
    // Only the helper file: no autoloader at all, as in a JSON-only worker.
    const script = `require ${JSON.stringify(PROTO_CONTEXT)};
      echo json_encode(RrTcp\\ProtoContext::decode($argv[1], 0)), "\\n";
      try { RrTcp\\ProtoContext::decode("\\x0a\\x01x", RrTcp\\ProtoContext::CODEC_PROTO); } catch (LogicException $e) { echo $e->getMessage(), "\\n"; }`;
    const json = jsonContextCodec.encode({ remote_addr: "a", server: "s", uuid: "u", event: TcpEvent.CLOSE });
    const result = spawnSync("php", ["-r", script, "--", json.toString()], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    const [decoded, error] = result.stdout.trim().split("\n");
    expect(JSON.parse(decoded!)).toEqual({ remote_addr: "a", server: "s", uuid: "u", event: "CLOSE" });
    expect(error).toMatch(
      /needs the generated classes of gen\/php \(Composer package rr-tcp\/proto\) and google\/protobuf/,
    );
  });
});
