import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  encodeControlFrame,
  encodeErrorFrame,
  encodeFrame,
  encodeFrameHeader,
  encodePayloadFrame,
  FrameReader,
  isStopRequest,
  parseControl,
  splitPayload,
  type Frame,
} from "../../src/goridge/index.js";
import { capturedFrames } from "../fixtures/goridge-frames.js";

const fixtures = capturedFrames;

describe("frames captured from the real PHP worker and RoadRunner", () => {
  it("has fixtures to check", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
  });

  for (const fx of fixtures) {
    describe(fx.name, () => {
      const bytes = Buffer.from(fx.hex, "hex");

      it("decodes to the listed fields", () => {
        const frame = decodeFrame(bytes);
        expect(frame.version).toBe(1);
        expect(frame.flags).toBe(fx.flags);
        expect(frame.options).toEqual(fx.options);
        expect(frame.byte10).toBe(0);
        expect(frame.byte11).toBe(0);
        if (fx.payload !== undefined) {
          expect(frame.payload.toString("utf8")).toBe(fx.payload);
        } else {
          const { context, body } = splitPayload(frame);
          expect(context.toString("utf8")).toBe(fx.context);
          expect(body.toString("hex")).toBe(fx.body_hex);
        }
      });

      it("encodes back to the same bytes", () => {
        const frame = decodeFrame(bytes);
        expect(encodeFrame(fx.flags, fx.options, frame.payload).toString("hex")).toBe(fx.hex);
        const header = encodeFrameHeader(fx.flags, fx.options, frame.payload.length);
        expect(Buffer.concat([header, frame.payload]).toString("hex")).toBe(fx.hex);
        if (fx.context !== undefined) {
          const encoded = encodePayloadFrame(Buffer.from(fx.context), Buffer.from(fx.body_hex ?? "", "hex"));
          expect(encoded.toString("hex")).toBe(fx.hex);
        } else if (fx.flags & 0x01) {
          const message = JSON.parse(fx.payload ?? "") as object;
          expect(encodeControlFrame(message, fx.flags).toString("hex")).toBe(fx.hex);
        } else {
          expect(encodeErrorFrame(fx.payload ?? "").toString("hex")).toBe(fx.hex);
        }
      });
    });
  }

  it("reads the whole captured session back through a FrameReader, one byte at a time", () => {
    const stream = Buffer.concat(fixtures.map((fx) => Buffer.from(fx.hex, "hex")));
    const reader = new FrameReader();
    const frames: Frame[] = [];
    for (let i = 0; i < stream.length; i++) reader.push(stream.subarray(i, i + 1), (f) => frames.push(f));
    reader.end();
    expect(frames.map((f) => encodeFrame(f.flags, f.options, f.payload).toString("hex"))).toEqual(
      fixtures.map((fx) => fx.hex),
    );
  });

  it("parses control frames and recognises the worker stop request", () => {
    const byName = (part: string): Buffer =>
      Buffer.from(fixtures.find((fx) => fx.name.includes(part))?.hex ?? "", "hex");
    expect(parseControl(decodeFrame(byName("pid request")))).toEqual({ pid: 10047 });
    expect(parseControl(decodeFrame(byName("pid reply")))).toEqual({ pid: 10088 });
    expect(parseControl(decodeFrame(byName("server stop command")))).toEqual({ stop: true });
    const stop = splitPayload(decodeFrame(byName("stop request (soft restart)")));
    expect(isStopRequest(stop.context, stop.body)).toBe(true);
    const close = splitPayload(decodeFrame(byName("CLOSE response")));
    expect(isStopRequest(close.context, close.body)).toBe(false);
  });

  it("matches the spec examples: bare frame and section 6 frames", () => {
    expect(encodeFrame(0, [], Buffer.alloc(0)).toString("hex")).toBe("130000000000" + "96d180340000");
    expect(encodeControlFrame({ pid: 4242 }).toString("hex")).toBe("13090c0000005f0c467300007b22706964223a343234327d");
    expect(encodeControlFrame({ pid: 4243 }, 0x01).toString("hex")).toBe(
      "13010c0000009e47364300007b22706964223a343234337d",
    );
    expect(encodePayloadFrame(Buffer.from("WRITE"), Buffer.from("220 hello\r\n")).toString("hex")).toBe(
      "140010000000b1b69c790000050000005752495445323230206865" + "6c6c6f0d0a",
    );
  });
});
