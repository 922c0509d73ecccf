import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  encodeControlFrame,
  encodeFrame,
  encodeFrameHeader,
  encodePayloadFrame,
  FrameError,
  FrameReader,
  MAX_EVENT_ID,
  eventIdOf,
  nextEventId,
  parseControl,
  splitPayload,
  type Frame,
} from "../../src/goridge/index.js";

/** A 12-byte header with a correct CRC over whatever bytes 0..5 hold. */
function header(byte0: number, flags: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(12);
  h[0] = byte0;
  h[1] = flags;
  h.writeUInt32LE(payloadLength, 2);
  h.writeUInt32LE(crc32(h.subarray(0, 6)), 6);
  return h;
}

function thrown(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FrameError);
    return err as FrameError;
  }
  throw new Error("expected a FrameError");
}

function pushAll(reader: FrameReader, ...chunks: Buffer[]): Frame[] {
  const frames: Frame[] = [];
  for (const c of chunks) reader.push(c, (f) => frames.push(f));
  return frames;
}

describe("bad frames give typed errors that say what was wrong", () => {
  it("CRC mismatch reports both values in hex", () => {
    const bytes = encodeFrame(0, [5], Buffer.from("WRITEhi"));
    bytes[6] = (bytes[6] as number) ^ 0xff;
    const stored = bytes.readUInt32LE(6).toString(16).padStart(8, "0");
    const expected = crc32(bytes.subarray(0, 6)).toString(16).padStart(8, "0");
    for (const err of [thrown(() => decodeFrame(bytes)), thrown(() => pushAll(new FrameReader(), bytes))]) {
      expect(err.code).toBe("CRC_MISMATCH");
      expect(err.message).toContain(`0x${stored}`);
      expect(err.message).toContain(`0x${expected}`);
    }
  });

  it("a changed length byte fails the CRC (the CRC covers bytes 0..5)", () => {
    const bytes = encodeFrame(0, [], Buffer.from("abc"));
    bytes[2] = 2;
    expect(thrown(() => decodeFrame(bytes.subarray(0, 14))).code).toBe("CRC_MISMATCH");
  });

  it("header length below 3 or above 13 words", () => {
    for (const words of [0, 1, 2, 14, 15]) {
      const err = thrown(() => pushAll(new FrameReader(), header(0x10 | words, 0, 0)));
      expect(err.code).toBe("BAD_HEADER_LENGTH");
      expect(err.message).toContain(`header length is ${words} words`);
      expect(err.message).toContain("3..13");
    }
    for (const words of [3, 13]) {
      const frames = pushAll(new FrameReader(), header(0x10 | words, 0, 0), Buffer.alloc((words - 3) * 4));
      expect(frames).toHaveLength(1);
    }
  });

  it("a stream that ends mid-header says how many header bytes are missing", () => {
    const reader = new FrameReader();
    pushAll(reader, encodeFrame(0, [], Buffer.alloc(0)).subarray(0, 7));
    const err = thrown(() => reader.end());
    expect(err.code).toBe("TRUNCATED");
    expect(err.message).toBe("stream ended mid-frame: 5 of 12 bytes of the frame header are missing (got 7)");
  });

  it("a stream that ends mid-payload says how many bytes of which frame are missing", () => {
    const bytes = encodePayloadFrame(Buffer.from("WRITE"), Buffer.alloc(100));
    const reader = new FrameReader();
    pushAll(reader, bytes.subarray(0, 20), bytes.subarray(20, 50));
    expect(reader.bufferedBytes).toBe(50);
    const err = thrown(() => reader.end());
    expect(err.code).toBe("TRUNCATED");
    expect(err.message).toContain("71 of 121 bytes");
    expect(err.message).toContain("16-byte header + 105-byte payload");
    expect(thrown(() => decodeFrame(bytes.subarray(0, 50))).code).toBe("TRUNCATED");
    expect(thrown(() => decodeFrame(bytes.subarray(0, 5))).code).toBe("TRUNCATED");
  });

  it("a payload over the limit is rejected as soon as the header is in, before the payload", () => {
    const reader = new FrameReader({ maxPayloadSize: 1024 * 1024 });
    const h = header(0x13, 0, 1024 * 1024 * 1024);
    // The first 11 bytes are not a complete header yet: nothing to judge.
    pushAll(reader, h.subarray(0, 11));
    const err = thrown(() => pushAll(reader, h.subarray(11)));
    expect(err.code).toBe("PAYLOAD_TOO_LARGE");
    expect(err.message).toContain("1073741824 bytes");
    expect(err.message).toContain("limit of 1048576 bytes");
    expect(reader.bufferedBytes).toBe(0);
    expect(thrown(() => decodeFrame(h, { maxPayloadSize: 1024 })).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("the default limit is 256 MiB", () => {
    expect(() => pushAll(new FrameReader(), header(0x13, 0, 256 * 1024 * 1024))).not.toThrow();
    expect(thrown(() => pushAll(new FrameReader(), header(0x13, 0, 256 * 1024 * 1024 + 1))).code).toBe(
      "PAYLOAD_TOO_LARGE",
    );
  });

  it("a poisoned reader throws the same error again", () => {
    const reader = new FrameReader();
    const bad = header(0x12, 0, 0);
    const first = thrown(() => pushAll(reader, bad));
    expect(thrown(() => pushAll(reader, encodeFrame(0, [], Buffer.alloc(0))))).toBe(first);
    expect(thrown(() => reader.end())).toBe(first);
  });

  it("frames before a bad one in the same chunk are still delivered", () => {
    const good = encodeFrame(0, [1], Buffer.from("ab"));
    const frames: Frame[] = [];
    const reader = new FrameReader();
    expect(() => reader.push(Buffer.concat([good, good, header(0x1f, 0, 0)]), (f) => frames.push(f))).toThrow(
      FrameError,
    );
    expect(frames).toHaveLength(2);
  });

  it("option count not 1 on a payload frame, RoadRunner wording plus what was seen", () => {
    for (const options of [[], [1, 2]]) {
      const err = thrown(() => splitPayload(decodeFrame(encodeFrame(0, options, Buffer.from("abc")))));
      expect(err.code).toBe("BAD_OPTIONS");
      expect(err.message).toContain("options length should be equal 1 (body offset)");
      expect(err.message).toContain(`got ${options.length} options`);
    }
  });

  it("context length beyond the payload", () => {
    const err = thrown(() => splitPayload(decodeFrame(encodeFrame(0, [10], Buffer.from("abc")))));
    expect(err.code).toBe("BAD_PAYLOAD");
    expect(err.message).toContain("context length 10");
    expect(err.message).toContain("payload length 3");
  });

  it("decodeFrame wants exactly one frame", () => {
    const one = encodeFrame(0, [], Buffer.from("x"));
    const err = thrown(() => decodeFrame(Buffer.concat([one, one])));
    expect(err.code).toBe("TRAILING_BYTES");
    expect(err.message).toContain("13 bytes follow it");
  });

  it('PHP "Could not open input file" is reported as text, not as a frame', () => {
    const text = Buffer.from("Could not open input file: worker.php\n");
    const err = thrown(() => pushAll(new FrameReader(), text));
    expect(err.code).toBe("NOT_A_FRAME");
    expect(err.message).toContain("Could not open input file: worker.php");
  });

  it("other printed text is reported as text, with the CRC values", () => {
    const text = Buffer.from("Warning: Undefined variable $x in worker.php on line 3\n");
    const err = thrown(() => pushAll(new FrameReader(), text));
    expect(err.code).toBe("NOT_A_FRAME");
    expect(err.message).toContain("printed text instead of a frame");
    expect(err.message).toContain("Undefined variable $x");
    expect(err.message).toMatch(/0x[0-9a-f]{8}.*0x[0-9a-f]{8}/);
  });

  it("a CRC mismatch with a wrong version nibble quotes the bytes", () => {
    const bytes = Buffer.from([0x23, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0]);
    const err = thrown(() => decodeFrame(bytes));
    expect(err.code).toBe("CRC_MISMATCH");
    expect(err.message).toContain("version nibble is 2");
  });

  it("encoders reject fields that do not fit", () => {
    expect(thrown(() => encodeFrameHeader(0, new Array(11).fill(0), 0)).code).toBe("TOO_MANY_OPTIONS");
    expect(thrown(() => encodeFrame(0, new Array(11).fill(0), Buffer.alloc(0))).code).toBe("TOO_MANY_OPTIONS");
    expect(thrown(() => encodeFrame(256, [], Buffer.alloc(0))).code).toBe("BAD_FIELD");
    expect(thrown(() => encodeFrame(0, [], Buffer.alloc(0), -1)).code).toBe("BAD_FIELD");
    expect(thrown(() => encodeFrame(0, [2 ** 32], Buffer.alloc(0))).code).toBe("BAD_FIELD");
    expect(thrown(() => encodeFrame(0, [1.5], Buffer.alloc(0))).code).toBe("BAD_FIELD");
    expect(encodeFrameHeader(0, new Array(10).fill(7), 0)).toHaveLength(52);
  });

  it("control frames with bad JSON", () => {
    const control = (json: string, flags = 0x01): Frame => decodeFrame(encodeFrame(flags, [], Buffer.from(json)));
    for (const json of ['{"pid":', "[1]", '"x"', "null", '{"pid":"12"}', '{"pid":1.5}', '{"stop":1}']) {
      const err = thrown(() => parseControl(control(json)));
      expect(err.code).toBe("BAD_CONTROL");
      expect(err.message).toContain(JSON.stringify(json));
    }
    expect(thrown(() => parseControl(control('{"pid":1}', 0))).code).toBe("BAD_CONTROL");
    expect(parseControl(control('{"pid":7,"other":1}'))).toEqual({ pid: 7 });
    expect(parseControl(control("{}"))).toEqual({});
    expect(thrown(() => encodeControlFrame(() => 1)).code).toBe("BAD_CONTROL");
  });

  it("an exception from onFrame propagates and the rest of the chunk is kept for the next push", () => {
    const a = encodeFrame(0, [], Buffer.from("a"));
    const b = encodeFrame(0, [], Buffer.from("b"));
    const reader = new FrameReader();
    const seen: string[] = [];
    let throwOnce = true;
    const onFrame = (f: Frame): void => {
      seen.push(f.payload.toString());
      if (throwOnce) {
        throwOnce = false;
        throw new Error("handler failed");
      }
    };
    expect(() => reader.push(Buffer.concat([a, b, b.subarray(0, 3)]), onFrame)).toThrow("handler failed");
    expect(seen).toEqual(["a"]);
    expect(() => reader.end()).toThrow(FrameError);
    reader.push(b.subarray(3), onFrame);
    reader.end();
    expect(seen).toEqual(["a", "b", "b"]);
  });
});

describe("event ids (docs/wire.md#event-ids-rr-tcp)", () => {
  it("ride as a payload frame's second option, and count from 1, wrapping past 2^32 - 1 without 0", () => {
    const frame = decodeFrame(encodePayloadFrame(Buffer.from("WRITE"), Buffer.from("hi"), 0, 0, 4_294_967_295));
    expect(frame.options).toEqual([5, 4_294_967_295]);
    expect(eventIdOf(frame)).toBe(4_294_967_295);
    expect(splitPayload(frame, true)).toEqual({ context: Buffer.from("WRITE"), body: Buffer.from("hi") });
    expect(eventIdOf(decodeFrame(encodePayloadFrame(Buffer.from("WRITE"), Buffer.alloc(0))))).toBeUndefined();
    expect([nextEventId(0), nextEventId(1), nextEventId(MAX_EVENT_ID)]).toEqual([1, 2, 1]);
  });

  it("a frame that should carry one and does not, or carries more, is refused with what was expected", () => {
    const plain = decodeFrame(encodePayloadFrame(Buffer.from("WRITE"), Buffer.alloc(0)));
    expect(thrown(() => splitPayload(plain, true)).message).toMatch(
      /^options length should be 2 \(body offset, event id\) from a worker that echoes event ids, got 1 options \[5\]/,
    );
    const three = decodeFrame(encodeFrame(0, [5, 1, 2], Buffer.from("WRITE")));
    expect(thrown(() => splitPayload(three, true)).code).toBe("BAD_OPTIONS");
  });
});
