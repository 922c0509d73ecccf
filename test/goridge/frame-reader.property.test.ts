import { crc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFrame, FrameReader, FrameError, MAX_OPTIONS, type Frame } from "../../src/goridge/index.js";

interface FrameSpec {
  flags: number;
  options: number[];
  payload: Uint8Array;
  byte10: number;
}

const frameSpec: fc.Arbitrary<FrameSpec> = fc.record({
  flags: fc.integer({ min: 0, max: 255 }),
  options: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: MAX_OPTIONS, size: "max" }),
  // Short payloads find edge cases; long ones make frames span many chunks. fast-check's default
  // size would keep every array under ~10 elements, hence size 'max'.
  payload: fc.oneof(fc.uint8Array({ maxLength: 32 }), fc.uint8Array({ maxLength: 4200, size: "max" })),
  byte10: fc.integer({ min: 0, max: 255 }),
});

/** Cuts `bytes` at the given points (sorted, deduplicated), keeping empty chunks out. */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    if (p > start) chunks.push(bytes.subarray(start, p));
    start = Math.max(start, p);
  }
  if (start < bytes.length) chunks.push(bytes.subarray(start));
  return chunks;
}

function readAll(chunks: Buffer[], maxPayloadSize?: number): Frame[] {
  const reader = new FrameReader(maxPayloadSize === undefined ? undefined : { maxPayloadSize });
  const frames: Frame[] = [];
  for (const c of chunks) reader.push(c, (f) => frames.push(f));
  reader.end();
  expect(reader.bufferedBytes).toBe(0);
  return frames;
}

function expectSame(frame: Frame, spec: FrameSpec): void {
  expect(frame.version).toBe(1);
  expect(frame.flags).toBe(spec.flags);
  expect(frame.byte10).toBe(spec.byte10);
  expect(frame.byte11).toBe(0);
  expect(frame.options).toEqual(spec.options);
  expect(Buffer.from(frame.payload).equals(Buffer.from(spec.payload))).toBe(true);
}

const encode = (s: FrameSpec): Buffer => encodeFrame(s.flags, s.options, s.payload, s.byte10);

describe("FrameReader round trip (property)", () => {
  it("reads a random frame back under random chunking", () => {
    fc.assert(
      fc.property(frameSpec, fc.array(fc.nat(), { maxLength: 20, size: "max" }), (spec, cuts) => {
        const frames = readAll(chunk(encode(spec), cuts));
        expect(frames).toHaveLength(1);
        expectSame(frames[0] as Frame, spec);
      }),
      { numRuns: 300 },
    );
  });

  it("reads a random frame back one byte at a time", () => {
    fc.assert(
      fc.property(frameSpec, (spec) => {
        const bytes = encode(spec);
        const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
        const frames = readAll(chunks);
        expect(frames).toHaveLength(1);
        expectSame(frames[0] as Frame, spec);
      }),
      { numRuns: 60 },
    );
  });

  it("reads many concatenated frames back in order under random chunking", () => {
    fc.assert(
      fc.property(
        fc.array(frameSpec, { minLength: 1, maxLength: 12, size: "max" }),
        fc.array(fc.nat(), { maxLength: 40, size: "max" }),
        (specs, cuts) => {
          const frames = readAll(chunk(Buffer.concat(specs.map(encode)), cuts));
          expect(frames).toHaveLength(specs.length);
          specs.forEach((spec, i) => expectSame(frames[i] as Frame, spec));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reads many concatenated small frames one byte at a time", () => {
    const small = fc.record({
      flags: fc.integer({ min: 0, max: 255 }),
      options: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: MAX_OPTIONS, size: "max" }),
      payload: fc.uint8Array({ maxLength: 64, size: "max" }),
      byte10: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(small, { minLength: 1, maxLength: 20, size: "max" }), (specs) => {
        const bytes = Buffer.concat(specs.map(encode));
        const frames = readAll(Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)));
        expect(frames).toHaveLength(specs.length);
        specs.forEach((spec, i) => expectSame(frames[i] as Frame, spec));
      }),
      { numRuns: 100 },
    );
  });

  it("gives views into the chunk, not copies, for frames wholly inside one chunk", () => {
    fc.assert(
      fc.property(fc.array(frameSpec, { minLength: 1, maxLength: 5 }), (specs) => {
        const bytes = Buffer.concat(specs.map(encode));
        const frames = readAll([bytes]);
        for (const f of frames) expect(f.payload.buffer).toBe(bytes.buffer);
      }),
      { numRuns: 50 },
    );
  });

  it("only ever throws FrameError subclasses on random garbage, and never hangs", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64, size: "max" }), { maxLength: 20, size: "max" }),
        fc.boolean(),
        (chunks, startWithValidFrame) => {
          const reader = new FrameReader({ maxPayloadSize: 1 << 20 });
          const input: Buffer[] = chunks.map((c) => Buffer.from(c));
          if (startWithValidFrame) input.unshift(encodeFrame(0, [1], Buffer.from("xy")));
          try {
            for (const c of input) reader.push(c, () => {});
            reader.end();
          } catch (err) {
            expect(err).toBeInstanceOf(FrameError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("handles CRC-valid headers with any header length and payload length without crashing", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 200, size: "max" }),
        (byte0, length, rest) => {
          const header = Buffer.alloc(12);
          header[0] = byte0;
          header.writeUInt32LE(length, 2);
          header.writeUInt32LE(crc32(header.subarray(0, 6)), 6);
          const reader = new FrameReader({ maxPayloadSize: 1 << 16 });
          try {
            reader.push(Buffer.concat([header, Buffer.from(rest)]), () => {});
            reader.end();
          } catch (err) {
            expect(err).toBeInstanceOf(FrameError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
