import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  codecName,
  decodeFrame,
  encodeFrame,
  encodeRpcError,
  encodeRpcReply,
  encodeRpcRequest,
  parseRpcReply,
  parseRpcRequest,
  RpcFrameError,
  type Frame,
} from "../../src/goridge/index.js";

// Flag values written out, not imported: the tests pin the wire values of goridge-go frame_flags.go.
const CONTROL = 0x01;
const RAW = 0x04;
const JSON_ = 0x08;
const MSGPACK = 0x10;
const GOB = 0x20;
const ERROR = 0x40;
const PROTO = 0x80;

/** CRC-32/IEEE (reflected, poly 0xEDB88320), written here so the expected bytes do not depend on src. */
function crc32Ieee(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A goridge frame built byte by byte, as goridge-php's Frame::packFrame and goridge-go's frame.go
 * lay it out: byte 0 = version 1 in the high nibble | header length in 32-bit words in the low
 * nibble (3 + options), byte 1 = flags, bytes 2..5 = payload length (uint32 LE), bytes 6..9 =
 * CRC32 of bytes 0..5 (uint32 LE), byte 10 = stream bits, byte 11 = 0, then each option as
 * uint32 LE, then the payload.
 */
function handFrame(flags: number, options: number[], payload: Uint8Array): Buffer {
  const bytes: number[] = [];
  bytes.push((1 << 4) | (3 + options.length));
  bytes.push(flags);
  const len = payload.length;
  bytes.push(len & 0xff, (len >>> 8) & 0xff, (len >>> 16) & 0xff, (len >>> 24) & 0xff);
  const crc = crc32Ieee(Uint8Array.from(bytes));
  bytes.push(crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, (crc >>> 24) & 0xff);
  bytes.push(0, 0);
  for (const o of options) bytes.push(o & 0xff, (o >>> 8) & 0xff, (o >>> 16) & 0xff, (o >>> 24) & 0xff);
  return Buffer.concat([Buffer.from(bytes), payload]);
}

function rpcError(fn: () => unknown): RpcFrameError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RpcFrameError);
    const e = err as RpcFrameError;
    expect(e.name).toBe("RpcFrameError");
    expect(e.code).toBe("BAD_RPC_FRAME");
    return e;
  }
  throw new Error("expected an RpcFrameError, nothing was thrown");
}

const UUID = "0f8e5c8a-3b1d-4e2a-9c7f-2d6b1a4e8f90";

/**
 * `$rpc->call('tcp.Close', $uuid)` from spiral/goridge's RPC with the JSON codec and seq 1:
 * options [1, strlen('tcp.Close') = 9], flags CODEC_JSON, payload 'tcp.Close' . json_encode($uuid).
 * Every byte written out by hand.
 */
const PHP_CLOSE_REQUEST = Buffer.concat([
  Buffer.from([0x15]), // byte 0: version 1 << 4 | 5 header words (12 bytes + 2 options)
  Buffer.from([0x08]), // byte 1: flags = CODEC_JSON
  Buffer.from([0x2f, 0x00, 0x00, 0x00]), // bytes 2..5: payload length 47 (9 + 38), LE
  Buffer.from([0x22, 0xc6, 0xf8, 0x2a]), // bytes 6..9: CRC32 of bytes 0..5 = 0x2af8c622, LE
  Buffer.from([0x00, 0x00]), // bytes 10, 11
  Buffer.from([0x01, 0x00, 0x00, 0x00]), // option 0: seq 1, LE
  Buffer.from([0x09, 0x00, 0x00, 0x00]), // option 1: strlen("tcp.Close") = 9, LE
  Buffer.from(`tcp.Close"${UUID}"`, "latin1"), // payload: method . json_encode($uuid)
]);

describe("test helpers", () => {
  it("crc32Ieee gives the CRC-32 check value for '123456789' and the CRC written into the PHP request", () => {
    expect(crc32Ieee(Buffer.from("123456789", "latin1"))).toBe(0xcbf43926);
    expect(crc32Ieee(Uint8Array.from([0x15, 0x08, 0x2f, 0x00, 0x00, 0x00]))).toBe(0x2af8c622);
  });

  it("handFrame lays out the PHP request exactly as the hand-written bytes", () => {
    expect(handFrame(JSON_, [1, 9], Buffer.from(`tcp.Close"${UUID}"`))).toEqual(PHP_CLOSE_REQUEST);
  });
});

describe("parseRpcRequest", () => {
  it("reads a request built by hand as PHP's RPC sends tcp.Close with a JSON argument", () => {
    expect(PHP_CLOSE_REQUEST.length).toBe(20 + 47);
    const request = parseRpcRequest(decodeFrame(PHP_CLOSE_REQUEST));
    expect(request.seq).toBe(1);
    expect(request.method).toBe("tcp.Close");
    expect([...request.methodBytes]).toEqual([0x74, 0x63, 0x70, 0x2e, 0x43, 0x6c, 0x6f, 0x73, 0x65]);
    expect(request.codec).toBe(0x08);
    expect(request.body.toString("latin1")).toBe(`"${UUID}"`);
    expect(JSON.parse(request.body.toString("utf8"))).toBe(UUID);
  });

  it("encodeRpcRequest produces exactly the bytes PHP sends", () => {
    expect(encodeRpcRequest(1, "tcp.Close", 0x08, Buffer.from(`"${UUID}"`))).toEqual(PHP_CLOSE_REQUEST);
  });

  it("accepts a method name that fills the payload (empty argument)", () => {
    const request = parseRpcRequest(decodeFrame(handFrame(RAW, [7, 9], Buffer.from("tcp.Close"))));
    expect(request).toMatchObject({ seq: 7, method: "tcp.Close", codec: RAW });
    expect(request.body.length).toBe(0);
  });

  it("accepts an empty method name", () => {
    const request = parseRpcRequest(decodeFrame(handFrame(JSON_, [3, 0], Buffer.from("{}"))));
    expect(request.method).toBe("");
    expect(request.methodBytes.length).toBe(0);
    expect(request.body.toString()).toBe("{}");
  });

  it.each([
    ["proto", PROTO, PROTO],
    ["json", JSON_, JSON_],
    ["raw", RAW, RAW],
    ["msgpack", MSGPACK, MSGPACK],
    ["gob", GOB, GOB],
    ["no codec bit: gob", 0x00, GOB],
    ["only the error bit: gob", ERROR, GOB],
    ["proto beats json", PROTO | JSON_, PROTO],
    ["json beats raw", JSON_ | RAW, JSON_],
    ["raw beats msgpack", RAW | MSGPACK, RAW],
    ["msgpack beats gob", MSGPACK | GOB, MSGPACK],
    ["every codec bit: proto", PROTO | JSON_ | RAW | MSGPACK | GOB, PROTO],
    ["json with stray bits 0x02", JSON_ | 0x02, JSON_],
  ])("codec from flags: %s", (_name, flags, codec) => {
    const request = parseRpcRequest(decodeFrame(handFrame(flags, [1, 3], Buffer.from("a.bxyz"))));
    expect(request.codec).toBe(codec);
    expect(request.method).toBe("a.b");
    expect(request.body.toString()).toBe("xyz");
  });

  it.each([
    [0, []],
    [1, [1]],
    [3, [1, 9, 0]],
    [10, [1, 9, 0, 0, 0, 0, 0, 0, 0, 0]],
  ])("rejects a frame with %i options", (count, options) => {
    const e = rpcError(() => parseRpcRequest(decodeFrame(handFrame(JSON_, options, Buffer.from('tcp.Close"x"')))));
    expect(e.message).toContain(`has ${count}`);
  });

  it("rejects a method name length beyond the payload", () => {
    const e = rpcError(() => parseRpcRequest(decodeFrame(handFrame(JSON_, [1, 10], Buffer.from("tcp.Close")))));
    expect(e.message).toContain("10");
    expect(e.message).toContain("9");
  });

  it("rejects a huge method name length", () => {
    rpcError(() => parseRpcRequest(decodeFrame(handFrame(JSON_, [1, 0xffffffff], Buffer.from("tcp.Close")))));
  });

  it("rejects a control frame (flag 0x01) even with two options", () => {
    const e = rpcError(() => parseRpcRequest(decodeFrame(handFrame(CONTROL, [1, 9], Buffer.from("tcp.Close")))));
    expect(e.message).toMatch(/control/);
  });

  it("rejects a control frame that also carries a codec bit", () => {
    rpcError(() => parseRpcRequest(decodeFrame(handFrame(CONTROL | JSON_, [1, 9], Buffer.from("tcp.Close{}")))));
  });
});

describe("encodeRpcReply / encodeRpcError", () => {
  const request = () => parseRpcRequest(decodeFrame(PHP_CLOSE_REQUEST));

  it("a reply repeats seq, method length and method, then the result", () => {
    const bytes = encodeRpcReply(request(), Buffer.from("true"));
    const frame = decodeFrame(bytes);
    expect(frame.version).toBe(1);
    expect(frame.flags).toBe(0x08);
    expect(frame.byte10).toBe(0);
    expect(frame.byte11).toBe(0);
    expect(frame.options).toEqual([1, 9]);
    expect(frame.payload.toString("latin1")).toBe("tcp.Closetrue");
    expect(bytes).toEqual(handFrame(0x08, [1, 9], Buffer.from("tcp.Closetrue")));
  });

  it("a reply with an empty result is the method name alone", () => {
    const frame = decodeFrame(encodeRpcReply(request(), Buffer.alloc(0)));
    expect(frame.flags).toBe(0x08);
    expect(frame.options).toEqual([1, 9]);
    expect(frame.payload.toString("latin1")).toBe("tcp.Close");
  });

  it("an error reply has flags codec|ERROR and the payload method ‖ message", () => {
    const bytes = encodeRpcError(request(), "tcp_close: no such connection");
    const frame = decodeFrame(bytes);
    expect(frame.flags).toBe(0x48);
    expect(frame.options).toEqual([1, 9]);
    expect(frame.payload.toString("latin1")).toBe("tcp.Closetcp_close: no such connection");
    expect(bytes).toEqual(handFrame(0x48, [1, 9], Buffer.from("tcp.Closetcp_close: no such connection")));
  });

  it("an error reply to a request without codec bits carries gob|ERROR", () => {
    const req = parseRpcRequest(decodeFrame(handFrame(0x00, [42, 8], Buffer.from("informer"))));
    const frame = decodeFrame(encodeRpcError(req, "boom"));
    expect(frame.flags).toBe(0x60);
    expect(frame.options).toEqual([42, 8]);
    expect(frame.payload.toString("latin1")).toBe("informerboom");
  });

  it("an error message is sent as UTF-8", () => {
    const frame = decodeFrame(encodeRpcError(request(), "é€😀"));
    expect([...frame.payload.subarray(9)]).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  });

  it("a reply keeps seq 0xffffffff and the request's codec", () => {
    const req = parseRpcRequest(decodeFrame(handFrame(PROTO, [0xffffffff, 3], Buffer.from("a.b\x01\x02"))));
    const frame = decodeFrame(encodeRpcReply(req, Buffer.from([0x00, 0xff])));
    expect(frame.flags).toBe(0x80);
    expect(frame.options).toEqual([0xffffffff, 3]);
    expect([...frame.payload]).toEqual([0x61, 0x2e, 0x62, 0x00, 0xff]);
  });

  it("echoes the method name byte for byte even when it is not valid UTF-8", () => {
    const method = Buffer.from([0xff, 0xfe, 0x74, 0x63, 0x70, 0xc3]); // invalid lead, truncated sequence
    const req = parseRpcRequest(decodeFrame(handFrame(JSON_, [5, 6], Buffer.concat([method, Buffer.from("[]")]))));
    expect(req.method).toContain("\ufffd");
    expect([...req.methodBytes]).toEqual([0xff, 0xfe, 0x74, 0x63, 0x70, 0xc3]);
    expect(req.body.toString()).toBe("[]");

    const reply = decodeFrame(encodeRpcReply(req, Buffer.from("null")));
    expect(reply.options).toEqual([5, 6]);
    expect([...reply.payload]).toEqual([0xff, 0xfe, 0x74, 0x63, 0x70, 0xc3, 0x6e, 0x75, 0x6c, 0x6c]);

    const error = decodeFrame(encodeRpcError(req, "no"));
    expect(error.flags).toBe(0x48);
    expect(error.options).toEqual([5, 6]);
    expect([...error.payload]).toEqual([0xff, 0xfe, 0x74, 0x63, 0x70, 0xc3, 0x6e, 0x6f]);
  });
});

describe("codecName", () => {
  it.each([
    [0x04, "raw"],
    [0x08, "json"],
    [0x10, "msgpack"],
    [0x20, "gob"],
    [0x80, "proto"],
    [0x02, "0x2"],
    [0x40, "0x40"],
    [0x0c, "0xc"],
  ])("codecName(%i) is %s", (codec, name) => {
    expect(codecName(codec)).toBe(name);
  });
});

describe("parseRpcReply", () => {
  it("reads a hand-built reply", () => {
    const reply = parseRpcReply(decodeFrame(handFrame(JSON_, [1, 9], Buffer.from("tcp.Closetrue"))), 1);
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(reply.codec).toBe(JSON_);
    expect(reply.body.toString("latin1")).toBe("true");
  });

  it("reads a hand-built error reply", () => {
    const reply = parseRpcReply(decodeFrame(handFrame(JSON_ | ERROR, [9, 3], Buffer.from("a.bbad thing"))), 9);
    expect(reply).toEqual({ ok: false, message: "bad thing" });
  });

  it("rejects a reply to another request", () => {
    const frame = decodeFrame(handFrame(JSON_, [2, 9], Buffer.from("tcp.Closetrue")));
    const e = rpcError(() => parseRpcReply(frame, 1));
    expect(e.message).toContain("2");
    expect(e.message).toContain("1");
  });

  it("rejects a reply without exactly two options", () => {
    rpcError(() => parseRpcReply(decodeFrame(handFrame(JSON_, [1], Buffer.from("tcp.Closetrue"))), 1));
    rpcError(() => parseRpcReply(decodeFrame(handFrame(JSON_, [1, 9, 0], Buffer.from("tcp.Closetrue"))), 1));
  });

  it("rejects a reply whose method length exceeds the payload", () => {
    rpcError(() => parseRpcReply(decodeFrame(handFrame(JSON_, [1, 14], Buffer.from("tcp.Closetrue"))), 1));
  });
});

describe("round trip (property)", () => {
  const wellFormed = (s: string): boolean => Buffer.from(s, "utf8").toString("utf8") === s;
  const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" })).filter(wellFormed);
  const codec = fc.constantFrom(RAW, JSON_, MSGPACK, GOB, PROTO);

  it("request → parse → reply → parse keeps seq, method, codec and bytes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        text,
        codec,
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }),
        text,
        (seq, method, codecBit, body, result, message) => {
          const methodUtf8 = Buffer.from(method, "utf8");
          const wire = encodeRpcRequest(seq, method, codecBit, body);
          const frame: Frame = decodeFrame(wire);
          expect(frame.flags).toBe(codecBit);
          expect(frame.options).toEqual([seq, methodUtf8.length]);

          const request = parseRpcRequest(frame);
          expect(request.seq).toBe(seq);
          expect(request.method).toBe(method);
          expect(request.methodBytes.equals(methodUtf8)).toBe(true);
          expect(request.codec).toBe(codecBit);
          expect(request.body.equals(Buffer.from(body))).toBe(true);

          const replyFrame = decodeFrame(encodeRpcReply(request, Buffer.from(result)));
          expect(replyFrame.flags).toBe(codecBit);
          expect(replyFrame.options).toEqual([seq, methodUtf8.length]);
          expect(replyFrame.payload.equals(Buffer.concat([methodUtf8, result]))).toBe(true);
          const reply = parseRpcReply(replyFrame, seq);
          expect(reply.ok).toBe(true);
          if (reply.ok) {
            expect(reply.codec).toBe(codecBit);
            expect(reply.body.equals(Buffer.from(result))).toBe(true);
          }

          const errorFrame = decodeFrame(encodeRpcError(request, message));
          expect(errorFrame.flags).toBe(codecBit | ERROR);
          expect(errorFrame.options).toEqual([seq, methodUtf8.length]);
          expect(parseRpcReply(errorFrame, seq)).toEqual({ ok: false, message });

          const otherSeq = (seq + 1) % 0x1_0000_0000;
          expect(() => parseRpcReply(replyFrame, otherSeq)).toThrow(RpcFrameError);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("encodeRpcRequest matches the hand-built frame byte for byte", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        text,
        codec,
        fc.uint8Array({ maxLength: 32 }),
        (seq, method, codecBit, body) => {
          const methodUtf8 = Buffer.from(method, "utf8");
          const expected = handFrame(codecBit, [seq, methodUtf8.length], Buffer.concat([methodUtf8, body]));
          expect(encodeRpcRequest(seq, method, codecBit, body).equals(expected)).toBe(true);
        },
      ),
    );
  });

  it("a method name of arbitrary bytes is echoed unchanged", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 40 }),
        (seq, methodBytes, result) => {
          const wire = encodeFrame(JSON_, [seq, methodBytes.length], Buffer.concat([methodBytes, Buffer.from("{}")]));
          const request = parseRpcRequest(decodeFrame(wire));
          const reply = decodeFrame(encodeRpcReply(request, Buffer.from(result)));
          expect(reply.payload.equals(Buffer.concat([methodBytes, result]))).toBe(true);
        },
      ),
    );
  });
});
