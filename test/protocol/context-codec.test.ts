import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capturedFrames } from "../fixtures/goridge-frames.js";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import {
  CONTEXT_KEYS,
  ContextDecodeError,
  contextCodecForFlags,
  jsonContextCodec,
  protoContextCodec,
} from "../../src/protocol/index.js";

const requestContexts = capturedFrames
  .filter((f) => f.direction === "server->worker" && f.context !== undefined)
  .map((f) => f.context!);

describe("RoadRunner JSON context", () => {
  it("has the keys of the schema in RoadRunner's order", () => {
    expect(CONTEXT_KEYS).toEqual(["remote_addr", "server", "uuid", "event"]);
  });

  it("covers CONNECTED, DATA and CLOSE in the PHP worker's vectors", () => {
    const events = requestContexts.map((c) => (JSON.parse(c) as { event: string }).event);
    expect(new Set(events)).toEqual(new Set(["CONNECTED", "DATA", "CLOSE"]));
  });

  it.each(requestContexts)("encodes %s to the captured bytes", (captured) => {
    const decoded = jsonContextCodec.decode(Buffer.from(captured));
    expect(decoded.remote_addr).toBe("127.0.0.1:54321");
    expect(decoded.server).toBe("server1");
    expect(decoded.uuid).toBe("3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b");
    expect(decoded.event).not.toBe(TcpEvent.UNSPECIFIED);
    expect(jsonContextCodec.encode(decoded).toString("utf8")).toBe(captured);
  });

  it("writes every key even when empty, as Go does", () => {
    const bytes = jsonContextCodec.encode(RequestContext.create({ event: TcpEvent.CLOSE }));
    expect(bytes.toString()).toBe('{"remote_addr":"","server":"","uuid":"","event":"CLOSE"}');
  });

  it("escapes like Go's json.Marshal", () => {
    const bytes = jsonContextCodec.encode(
      RequestContext.create({
        remote_addr: "[::1]:80",
        server: 'a<b>&"\\\n\u2028\u0001',
        uuid: "u",
        event: TcpEvent.DATA,
      }),
    );
    expect(bytes.toString()).toBe(
      '{"remote_addr":"[::1]:80","server":"a\\u003cb\\u003e\\u0026\\"\\\\\\n\\u2028\\u0001","uuid":"u","event":"DATA"}',
    );
  });

  it("maps an unknown event string to UNSPECIFIED, as PHP maps it to Unknown", () => {
    const decoded = jsonContextCodec.decode(
      Buffer.from('{"remote_addr":"x","server":"s","uuid":"u","event":"CLOSED"}'),
    );
    expect(decoded.event).toBe(TcpEvent.UNSPECIFIED);
  });

  it("rejects invalid JSON with an error naming the input", () => {
    expect(() => jsonContextCodec.decode(Buffer.from('{"remote_addr":'))).toThrow(ContextDecodeError);
    expect(() => jsonContextCodec.decode(Buffer.from("[1]"))).toThrow(/not an object/);
    expect(() => jsonContextCodec.decode(Buffer.from('{"server":5}'))).toThrow(/"server" must be a string/);
  });

  it("round-trips any context (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }),
        fc.string(),
        fc.uuid(),
        fc.constantFrom(TcpEvent.CONNECTED, TcpEvent.DATA, TcpEvent.CLOSE),
        (addr, server, uuid, event) => {
          const context = RequestContext.create({ remote_addr: addr, server, uuid, event });
          const decoded = jsonContextCodec.decode(jsonContextCodec.encode(context));
          // Go (and so rr-tcp) replaces lone surrogates with U+FFFD; everything else survives.
          expect(decoded).toEqual({
            ...context,
            remote_addr: addr.replace(/\p{Cs}/gu, "\ufffd"),
            server: server.replace(/\p{Cs}/gu, "\ufffd"),
          });
        },
      ),
    );
  });
});

describe("protobuf context", () => {
  it("round-trips the captured contexts", () => {
    for (const captured of requestContexts) {
      const context = jsonContextCodec.decode(Buffer.from(captured));
      const bytes = protoContextCodec.encode(context);
      expect(bytes.length).toBeLessThan(captured.length);
      expect(protoContextCodec.decode(bytes)).toEqual(context);
    }
  });

  it("encodes fields 1..4 as the schema numbers them", () => {
    const bytes = protoContextCodec.encode(
      RequestContext.create({ remote_addr: "a", server: "b", uuid: "c", event: TcpEvent.DATA }),
    );
    expect(bytes.toString("hex")).toBe("0a01611201621a01632002");
  });

  it("rejects truncated bytes with a typed error", () => {
    expect(() => protoContextCodec.decode(Buffer.from([0x0a, 0x05, 0x61]))).toThrow(ContextDecodeError);
  });

  it("is chosen by the CODEC_PROTO frame flag", () => {
    expect(contextCodecForFlags(0x80)).toBe(protoContextCodec);
    expect(contextCodecForFlags(0x00)).toBe(jsonContextCodec);
    expect(protoContextCodec.frameFlags).toBe(0x80);
  });
});
