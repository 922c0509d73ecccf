import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  encodeErrorFrame,
  encodeFrame,
  encodePayloadFrame,
  parseControl,
} from "../../src/goridge/index.js";
import { encodePidReply, HandshakeError, requestHello, requestPid, StreamRelay } from "../../src/relay/index.js";

/** Two relays joined back to back in memory: what one sends, the other receives. */
function relayPair(): { server: StreamRelay; worker: StreamRelay } {
  const toWorker = new PassThrough();
  const toServer = new PassThrough();
  return {
    server: new StreamRelay(toServer, toWorker, { name: "server end" }),
    worker: new StreamRelay(toWorker, toServer, { name: "worker end" }),
  };
}

async function handshakeWith(reply: Buffer | null, timeoutMs = 2000): Promise<number> {
  const { server, worker } = relayPair();
  const request = worker.receive().then((frame) => {
    expect(frame.flags).toBe(0x09);
    expect(parseControl(frame)).toEqual({ pid: 4242 });
    if (reply !== null) worker.send(reply);
  });
  const pid = requestPid(server, 4242, timeoutMs);
  await request;
  return pid;
}

async function failure(promise: Promise<unknown>): Promise<HandshakeError> {
  const err = await promise.then(
    () => new Error("expected the handshake to fail"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HandshakeError);
  expect((err as HandshakeError).code).toBe("HANDSHAKE");
  return err as HandshakeError;
}

describe("pid handshake", () => {
  it("reads what a worker says it can do in its pid reply, and takes RoadRunner's reply as JSON only", async () => {
    const hello = async (reply: Buffer) => {
      const { server, worker } = relayPair();
      void worker.receive().then(() => worker.send(reply));
      return requestHello(server, 4242, 2000);
    };
    const reply = encodePidReply(4243, { contextCodecs: ["proto"], echoEventId: true });
    expect(decodeFrame(reply).payload.toString()).toBe('{"pid":4243,"context_codecs":["proto"],"echo_event_id":true}');
    expect(await hello(reply)).toEqual({ pid: 4243, contextCodecs: ["proto"], echoEventId: true });
    expect(await hello(encodePidReply(4243))).toEqual({ pid: 4243, contextCodecs: [], echoEventId: false });
    const bad = await failure(hello(encodeFrame(0x01, [], Buffer.from('{"pid":5,"context_codecs":"proto"}'))));
    expect(bad.message).toContain('"context_codecs" is not a list of strings');
  });

  it('sends CONTROL|JSON {"pid":N} and returns the pid the worker reports', async () => {
    expect(await handshakeWith(encodePidReply(4243))).toBe(4243);
  });

  it("encodes the worker reply exactly as the PHP worker does (flags 0x01)", () => {
    expect(encodePidReply(4243).toString("hex")).toBe("13010c0000009e47364300007b22706964223a343234337d");
    expect(() => encodePidReply(0)).toThrow(HandshakeError);
    expect(() => encodePidReply(1.5)).toThrow(HandshakeError);
  });

  it("accepts a reply with extra flags as long as CONTROL is set, like RoadRunner", async () => {
    expect(await handshakeWith(encodeFrame(0x09, [], Buffer.from('{"pid":77}')))).toBe(77);
  });

  it("rejects a reply without the CONTROL flag", async () => {
    const err = await failure(handshakeWith(encodePayloadFrame(Buffer.from('{"pid":1}'), Buffer.alloc(0))));
    expect(err.message).toContain("unexpected response, header is missing, no CONTROL flag");
    expect(err.message).toContain("flags 0x00");
  });

  it("quotes the message of an error frame sent instead of the reply", async () => {
    const err = await failure(handshakeWith(encodeErrorFrame("worker boot failed")));
    expect(err.message).toContain("no CONTROL flag");
    expect(err.message).toContain("worker boot failed");
  });

  it("rejects pid 0, a negative pid and a missing pid", async () => {
    for (const json of ['{"pid":0}', '{"pid":-3}', "{}"]) {
      const err = await failure(handshakeWith(encodeFrame(0x01, [], Buffer.from(json))));
      expect(err.message).toContain("pid should be greater than 0");
    }
  });

  it("rejects bad JSON", async () => {
    const err = await failure(handshakeWith(encodeFrame(0x01, [], Buffer.from('{"pid":'))));
    expect(err.message).toContain("bad pid reply");
    expect(err.message).toContain("not JSON");
  });

  it("times out, naming the timeout, and closes the relay", async () => {
    const { server, worker } = relayPair();
    const started = Date.now();
    const err = await failure(requestPid(server, 1, 50));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(err.message).toContain("within 50 ms");
    expect(err.timeoutMs).toBe(50);
    expect(server.isClosed).toBe(true);
    // The request did go out before the timeout.
    expect(parseControl(decodeFrame(encodeFrame(0x09, [], (await worker.receive()).payload)))).toEqual({ pid: 1 });
  });

  it("fails when the worker closes the relay instead of answering", async () => {
    const { server, worker } = relayPair();
    const pending = requestPid(server, 1, 2000);
    await worker.receive();
    worker.close();
    const err = await failure(pending);
    expect(err.message).toContain("closed");
  });
});
