/**
 * The tests every other language's bindings must pass, as separate test files run in parallel:
 * with a worker (python.test.ts, go.test.ts: {@link describeLanguage}) or with a decoder and
 * encoder program (php.test.ts, java.test.ts, cpp.test.ts: {@link describeBindings}).
 */
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { encodeControlFrame, encodeFrame, encodePayloadFrame, FrameFlag, type Frame } from "../../src/goridge/index.js";
import {
  eventName,
  jsonContextCodec,
  protoContextCodec,
  WIRE_EVENT_NAMES,
  WIRE_VERB_NAMES,
} from "../../src/protocol/index.js";
import {
  bindingsXlang,
  goXlang,
  missingToolchain,
  prepareBindings,
  pythonXlang,
  TOOLCHAINS_REQUIRED,
  workerCommands,
  type BindingLanguage,
  type WorkerCommands,
} from "./toolchain.js";
import {
  buildTsFixture,
  decodeMessage,
  encodedFixture,
  fixtureText,
  TS_FIXTURE,
  type EncodedFixture,
  type Neutral,
  type TsFixture,
} from "./vectors.js";
import { frameHex, WorkerSession } from "../fixtures/worker-session.js";
import { capturedFrame, capturedFrames, FRAMES_FIXTURE } from "../fixtures/goridge-frames.js";

export type Language = "python" | "go";

const captured = capturedFrame;

interface FramesOutput {
  frames: {
    name: string;
    version: number;
    flags: number;
    options: number[];
    byte10: number;
    byte11: number;
    payload_hex: string;
    context?: string;
    body_hex?: string;
    reencoded_hex: string;
    helper_hex: string;
  }[];
  stream: string[];
}

interface DecodeOutput {
  contexts: { name: string; proto_fields: Neutral; proto_request: Neutral; json_request: Neutral }[];
  messages: { name: string; type: string; fields: Neutral }[];
}

const reply = (verb: string, body: string | Buffer = ""): string =>
  encodePayloadFrame(Buffer.from(verb), Buffer.from(body)).toString("hex");

function expectExactly(frame: Frame, expectedHex: string, what: string): void {
  expect(frame.version, `${what}: version`).toBe(1);
  expect(frame.byte11, `${what}: byte 11`).toBe(0);
  expect(frameHex(frame), what).toBe(expectedHex);
}

export function describeLanguage(language: Language): void {
  const xlang = (args: string[]): string => (language === "python" ? pythonXlang(args) : goXlang(args));
  let commands: WorkerCommands;

  beforeAll(() => {
    // Fails (does not skip) with the package to install when the toolchain is missing; builds
    // the Go programs once.
    commands = workerCommands(language);
  }, 240_000);

  describe(`${language}: goridge frames of test/fixtures/goridge-frames.json`, () => {
    let output: FramesOutput;
    beforeAll(() => {
      output = JSON.parse(xlang(["frames", FRAMES_FIXTURE])) as FramesOutput;
    });

    it("decodes every captured frame field by field", () => {
      expect(output.frames.map((f) => f.name)).toEqual(capturedFrames.map((f) => f.name));
      for (const [i, fx] of capturedFrames.entries()) {
        const got = output.frames[i]!;
        const expected: Record<string, unknown> = {
          version: 1,
          flags: fx.flags,
          options: fx.options,
          byte10: 0,
          byte11: 0,
        };
        if (fx.payload !== undefined) expected.payload_hex = Buffer.from(fx.payload).toString("hex");
        else Object.assign(expected, { context: fx.context, body_hex: fx.body_hex });
        expect(got, fx.name).toMatchObject(expected);
      }
    });

    it("encodes every captured frame back to the same bytes, generically and with the frame-kind helpers", () => {
      for (const [i, fx] of capturedFrames.entries()) {
        expect(output.frames[i]!.reencoded_hex, fx.name).toBe(fx.hex);
        expect(output.frames[i]!.helper_hex, fx.name).toBe(fx.hex);
      }
    });

    it("reads the whole session as one stream delivered one byte at a time", () => {
      expect(output.stream).toEqual(capturedFrames.map((f) => f.hex));
    });
  });

  describe(`${language}: cross-language vectors (test/fixtures/cross-language)`, () => {
    const tsFixture = JSON.parse(readFileSync(TS_FIXTURE, "utf8")) as TsFixture;

    it("ts-encoded.json is what the TypeScript code encodes now", () => {
      // Otherwise the other languages would be checked against stale bytes.
      expect(readFileSync(TS_FIXTURE, "utf8"), "run: npx tsx test/bindings/vectors.ts --write").toBe(
        fixtureText(buildTsFixture()),
      );
    });

    it("the worker's event and verb strings are the schema's and rr-tcp's", () => {
      const names = JSON.parse(xlang(["names"])) as Record<string, string[]>;
      expect(names.schema_events).toEqual([...WIRE_EVENT_NAMES]);
      expect(names.schema_verbs).toEqual([...WIRE_VERB_NAMES]);
      expect(names.events).toEqual([...WIRE_EVENT_NAMES]);
      expect(names.verbs).toEqual([...WIRE_VERB_NAMES]);
    });

    describe("decoding what TypeScript encoded", () => {
      let decoded: DecodeOutput;
      beforeAll(() => {
        decoded = JSON.parse(xlang(["decode", TS_FIXTURE])) as DecodeOutput;
      });

      it("request contexts, protobuf and JSON, field by field", () => {
        expect(decoded.contexts.map((c) => c.name)).toEqual(tsFixture.contexts.map((c) => c.name));
        for (const [i, vector] of tsFixture.contexts.entries()) {
          const got = decoded.contexts[i]!;
          const asRequest = { ...vector.fields, event: vector.event_name };
          expect(got.proto_fields, `${vector.name}: generated bindings`).toEqual(vector.fields);
          expect(got.proto_request, `${vector.name}: worker's protobuf decoder`).toEqual(asRequest);
          expect(got.json_request, `${vector.name}: worker's JSON decoder`).toEqual(asRequest);
        }
      });

      it("Config, PoolOptions and WorkerReply, field by field", () => {
        expect(decoded.messages.map((m) => m.name)).toEqual(tsFixture.messages.map((m) => m.name));
        for (const [i, vector] of tsFixture.messages.entries()) {
          expect(decoded.messages[i]!.fields, vector.name).toEqual(vector.fields);
        }
      });
    });

    describe(`decoding what ${language} encoded`, () => {
      let encoded: EncodedFixture;
      beforeAll(() => {
        encoded = JSON.parse(xlang(["encode", TS_FIXTURE])) as EncodedFixture;
      });

      it(`gives the committed ${language}-encoded.json`, () => {
        expect(fixtureText(encoded), "run: npx tsx test/bindings/vectors.ts --write").toBe(
          readFileSync(encodedFixture(language), "utf8"),
        );
      });

      it("request contexts decode in TypeScript field by field, and equal TypeScript's bytes", () => {
        for (const [i, vector] of tsFixture.contexts.entries()) {
          const got = encoded.contexts[i]!;
          expect(got.name).toBe(vector.name);
          const fromProto = RequestContext.decode(Buffer.from(got.proto_hex, "hex"));
          expect({ ...fromProto }, `${vector.name}: protobuf`).toEqual(vector.fields);
          const fromJson = jsonContextCodec.decode(Buffer.from(got.json, "utf8"));
          const known = (WIRE_EVENT_NAMES as readonly string[]).includes(vector.event_name);
          expect({ ...fromJson, event: eventName(fromJson.event) }, `${vector.name}: JSON`).toEqual({
            ...vector.fields,
            event: known ? vector.event_name : "UNKNOWN",
          });
          // Both encodings are canonical for a context (fields in number order, defaults left
          // out; Go's JSON escaping), so every language writes the same bytes.
          expect(got.proto_hex, `${vector.name}: protobuf bytes`).toBe(vector.proto_hex);
          expect(got.json, `${vector.name}: JSON bytes`).toBe(vector.json);
        }
      });

      it("Config, PoolOptions and WorkerReply decode in TypeScript field by field", () => {
        for (const [i, vector] of tsFixture.messages.entries()) {
          const got = encoded.messages[i]!;
          expect(got.name).toBe(vector.name);
          expect(decodeMessage(vector.type, got.proto_hex), vector.name).toEqual(vector.fields);
          // The vectors' map keys are sorted, so deterministic serialization matches ts-proto's
          // insertion order; a difference here is only a hint, the field check above is the proof.
          expect(got.proto_hex, `${vector.name}: bytes`).toBe(vector.proto_hex);
        }
      });
    });
  });

  describe(`${language}: the echo worker over pipes, the server side played by this test`, () => {
    let session: WorkerSession | undefined;
    afterEach(() => session?.kill());

    const context = (event: TcpEvent): RequestContext => ({
      remote_addr: "127.0.0.1:54321",
      server: "server1",
      uuid: "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b",
      event,
    });
    const request = (codec: "json" | "proto", event: TcpEvent, body = ""): Buffer => {
      const c = codec === "json" ? jsonContextCodec : protoContextCodec;
      return encodePayloadFrame(c.encode(context(event)), Buffer.from(body), c.frameFlags);
    };

    async function handshake(s: WorkerSession): Promise<void> {
      const pid = await s.exchange(captured("control: pid request"));
      expect(pid.flags, "pid reply flags: CONTROL only, as PHP").toBe(FrameFlag.CONTROL);
      expect(pid.options).toEqual([]);
      // PHP's reply, plus the context codec the worker reads besides JSON and its offer to echo
      // event ids (rr.goridge.v1.ControlMessage), in the order Go and Python write the keys.
      const hello = { pid: s.child.pid, context_codecs: ["proto"], echo_event_id: true };
      expect(JSON.parse(pid.payload.toString())).toEqual(hello);
      expectExactly(pid, encodeControlFrame(hello, FrameFlag.CONTROL).toString("hex"), "pid reply");
    }

    it("answers the captured RoadRunner session (JSON contexts) frame by frame, then exits 0 on stop", async () => {
      session = new WorkerSession(commands.echo, commands.env);
      await handshake(session);
      expectExactly(await session.exchange(captured("CONNECTED request")), reply("CONTINUE"), "CONNECTED");
      expectExactly(await session.exchange(captured("DATA(hello) request")), reply("WRITE", "hello\r\n"), "DATA hello");
      expectExactly(
        await session.exchange(captured("DATA(quit) request")),
        reply("WRITECLOSE", "bye\r\n"),
        "DATA quit",
      );
      expectExactly(await session.exchange(captured("CLOSE request")), reply("CONTINUE"), "CLOSE");
      session.send(captured("control: stop"));
      expect(await session.exit()).toEqual({ code: 0, signal: null });
    });

    for (const codec of ["json", "proto"] as const) {
      it(`echoes with ${codec} contexts: CONNECTED, DATA, quit with \\n, CLOSE`, async () => {
        session = new WorkerSession(commands.echo, commands.env);
        await handshake(session);
        expectExactly(await session.exchange(request(codec, TcpEvent.CONNECTED)), reply("CONTINUE"), "CONNECTED");
        const binary = Buffer.from([0, 1, 2, 0xff, 0x0a]);
        const echoed = await session.exchange(
          encodePayloadFrame(
            (codec === "json" ? jsonContextCodec : protoContextCodec).encode(context(TcpEvent.DATA)),
            binary,
            codec === "json" ? 0 : FrameFlag.CODEC_PROTO,
          ),
        );
        expectExactly(echoed, encodePayloadFrame(Buffer.from("WRITE"), binary).toString("hex"), "DATA binary");
        expectExactly(
          await session.exchange(request(codec, TcpEvent.DATA, "ping\r\n")),
          reply("WRITE", "ping\r\n"),
          "DATA ping",
        );
        expectExactly(
          await session.exchange(request(codec, TcpEvent.DATA, "quit\n")),
          reply("WRITECLOSE", "bye\r\n"),
          "DATA quit\\n",
        );
        expectExactly(
          await session.exchange(request(codec, TcpEvent.DATA, "quit now\r\n")),
          reply("WRITE", "quit now\r\n"),
          "DATA not quite quit",
        );
        expectExactly(await session.exchange(request(codec, TcpEvent.CLOSE)), reply("CONTINUE"), "CLOSE");
        session.send(encodeControlFrame({ stop: true }));
        expect(await session.exit()).toEqual({ code: 0, signal: null });
      });
    }

    it("answers a request it cannot decode with an ERROR frame, and keeps serving", async () => {
      session = new WorkerSession(commands.echo, commands.env);
      await handshake(session);
      const badJson = await session.exchange(encodePayloadFrame(Buffer.from("{not json"), Buffer.alloc(0)));
      expect(badJson.flags).toBe(FrameFlag.ERROR);
      expect(badJson.options).toEqual([]);
      expect(badJson.payload.toString()).toMatch(/json/i);
      const badProto = await session.exchange(
        encodePayloadFrame(Buffer.from([0x0a, 0x7f]), Buffer.alloc(0), FrameFlag.CODEC_PROTO),
      );
      expect(badProto.flags).toBe(FrameFlag.ERROR);
      // Two options are a context length and an event id (test/bindings/event-ids.test.ts); three
      // are neither.
      const threeOptions = await session.exchange(encodeFrame(0, [1, 2, 3], Buffer.from("abc")));
      expect(threeOptions.flags).toBe(FrameFlag.ERROR);
      expect(threeOptions.options).toEqual([]);
      expect(threeOptions.payload.toString()).toContain("options length should be equal 1");
      expectExactly(
        await session.exchange(request("json", TcpEvent.DATA, "still here\n")),
        reply("WRITE", "still here\n"),
        "after errors",
      );
    });

    it("turns a handler failure into an ERROR frame and keeps serving", async () => {
      session = new WorkerSession(commands.failing, commands.env);
      await handshake(session);
      const failed = await session.exchange(request("proto", TcpEvent.DATA, "boom\r\n"));
      expect(failed.flags).toBe(FrameFlag.ERROR);
      expect(failed.options).toEqual([]);
      expect(failed.payload.toString()).toContain("boom requested by the client");
      expectExactly(
        await session.exchange(request("proto", TcpEvent.DATA, "ok\r\n")),
        reply("WRITE", "ok\r\n"),
        "after the failure",
      );
      session.send(encodeControlFrame({ stop: true }));
      expect(await session.exit()).toEqual({ code: 0, signal: null });
    });

    it("keeps stray output off the relay: a handler that prints to stdout does not corrupt a frame", async () => {
      // Both SDKs point stdout at stderr once the relay has it, as PHP's worker does.
      session = new WorkerSession(commands.failing, commands.env);
      await handshake(session);
      expectExactly(
        await session.exchange(request("json", TcpEvent.DATA, "print me\n")),
        reply("WRITE", "print me\n"),
        "after a print",
      );
      expectExactly(await session.exchange(request("json", TcpEvent.CLOSE)), reply("CONTINUE"), "CLOSE after a print");
      expect(session.stderr).toContain("stray output from a handler");
    });
  });
}

/** What decode prints for PHP, Java and C++: the helper's requests only where there is a helper (PHP). */
interface BindingsDecodeOutput {
  contexts: { name: string; proto_fields: Neutral; proto_request?: Neutral; json_request?: Neutral }[];
  messages: { name: string; type: string; fields: Neutral }[];
}

/** php-, java- and cpp-encoded.json: the protobuf bytes only, as these languages have no JSON context encoder. */
export interface BindingsEncodedFixture {
  about: string;
  contexts: { name: string; proto_hex: string }[];
  messages: { name: string; type: string; proto_hex: string }[];
}

/**
 * The tests of a language's bindings without a worker (PHP, Java, C++): its test program decodes
 * what TypeScript encoded, field by field, and encodes the same vectors for TypeScript to decode.
 * Skipped, with the apt-get line, when the toolchain is missing, unless RR_TCP_REQUIRE_TOOLCHAINS=1.
 * `extra` adds the language's own tests inside the same skip.
 */
export function describeBindings(language: BindingLanguage, extra?: () => void): void {
  const missing = missingToolchain(language);
  const skip = missing !== undefined && !TOOLCHAINS_REQUIRED;
  if (skip) console.warn(`test/bindings: skipping ${language}: ${missing}`);
  const xlang = (args: string[], input?: string): string => bindingsXlang(language, args, input);

  describe.skipIf(skip)(`${language} bindings (gen/${language})${skip ? `: skipped, ${missing}` : ""}`, () => {
    beforeAll(() => {
      // Builds once (Java, C++), or fails with what to install when CI lacks the toolchain.
      prepareBindings(language);
    }, 240_000);

    const tsFixture = JSON.parse(readFileSync(TS_FIXTURE, "utf8")) as TsFixture;

    it("names the schema's events, verbs and the CODEC_PROTO flag as rr-tcp does", () => {
      const names = JSON.parse(xlang(["names"])) as Record<string, unknown>;
      expect(names.schema_events).toEqual([...WIRE_EVENT_NAMES]);
      if (names.schema_verbs !== undefined) expect(names.schema_verbs).toEqual([...WIRE_VERB_NAMES]);
      expect(names.schema_codec_proto).toBe(FrameFlag.CODEC_PROTO);
    });

    describe("decoding what TypeScript encoded (ts-encoded.json)", () => {
      let decoded: BindingsDecodeOutput;
      beforeAll(() => {
        decoded = JSON.parse(xlang(["decode", TS_FIXTURE])) as BindingsDecodeOutput;
      });

      it("request contexts, field by field through the generated accessors", () => {
        expect(decoded.contexts.map((c) => c.name)).toEqual(tsFixture.contexts.map((c) => c.name));
        for (const [i, vector] of tsFixture.contexts.entries()) {
          expect(decoded.contexts[i]!.proto_fields, vector.name).toEqual(vector.fields);
        }
      });

      it("Config, PoolOptions and WorkerReply, field by field", () => {
        expect(decoded.messages.map((m) => m.name)).toEqual(tsFixture.messages.map((m) => m.name));
        for (const [i, vector] of tsFixture.messages.entries()) {
          expect(decoded.messages[i]!.fields, vector.name).toEqual(vector.fields);
        }
      });
    });

    describe(`decoding what ${language} encoded`, () => {
      let encoded: BindingsEncodedFixture;
      beforeAll(() => {
        encoded = JSON.parse(xlang(["encode", TS_FIXTURE])) as BindingsEncodedFixture;
      });

      it(`gives the committed ${language}-encoded.json`, () => {
        expect(fixtureText(encoded), "run: npx tsx test/bindings/vectors.ts --write").toBe(
          readFileSync(encodedFixture(language), "utf8"),
        );
      });

      it("request contexts decode in TypeScript field by field, and equal TypeScript's bytes", () => {
        expect(encoded.contexts.map((c) => c.name)).toEqual(tsFixture.contexts.map((c) => c.name));
        for (const [i, vector] of tsFixture.contexts.entries()) {
          const got = encoded.contexts[i]!;
          expect({ ...RequestContext.decode(Buffer.from(got.proto_hex, "hex")) }, vector.name).toEqual(vector.fields);
          expect(got.proto_hex, `${vector.name}: bytes`).toBe(vector.proto_hex);
        }
      });

      it("Config, PoolOptions and WorkerReply decode in TypeScript field by field, and equal TypeScript's bytes", () => {
        expect(encoded.messages.map((m) => m.name)).toEqual(tsFixture.messages.map((m) => m.name));
        for (const [i, vector] of tsFixture.messages.entries()) {
          const got = encoded.messages[i]!;
          expect(decodeMessage(vector.type, got.proto_hex), vector.name).toEqual(vector.fields);
          // Map entries in key order (deterministic serialization), as the TypeScript encoder
          // wrote the vectors' sorted maps; the field check above is the proof, this a hint.
          expect(got.proto_hex, `${vector.name}: bytes`).toBe(vector.proto_hex);
        }
      });
    });

    extra?.();
  });
}
