/**
 * The SDK's behaviour in a real worker process on the pipes relay: both context codecs, handler
 * errors, stdout guarding, the reply forms, and the for-await loop.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, within } from "../fixtures/eventually.js";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import {
  decodeFrame,
  encodeControlFrame,
  encodeErrorFrame,
  encodePayloadFrame,
  FrameFlag,
  isStopRequest,
  splitPayload,
} from "../../src/goridge/index.js";
import {
  jsonContextCodec,
  protoContextCodec,
  TcpResponse,
  verbBytes,
  type ContextCodec,
} from "../../src/protocol/index.js";
import {
  BEHAVIOUR_WORKER,
  LOOP_WORKER,
  pipesOf,
  startWorker,
  vector,
  workerStderr,
  type ServerSide,
  type WorkerChild,
} from "./harness.js";

const UUID = "0b8f2f4e-6a55-4f0e-9d3c-7f1a2b3c4d5e";

function request(codec: ContextCodec, event: TcpEvent, body = "", context: Partial<RequestContext> = {}): Buffer {
  const ctx = RequestContext.create({ remote_addr: "127.0.0.1:40000", server: "tcp-a", uuid: UUID, event, ...context });
  return encodePayloadFrame(codec.encode(ctx), Buffer.from(body, "latin1"), codec.frameFlags);
}

function reply(verb: TcpResponse, body: string | Uint8Array = ""): Buffer {
  return encodePayloadFrame(verbBytes(verb), typeof body === "string" ? Buffer.from(body) : body);
}

async function handshake(relay: ServerSide): Promise<void> {
  relay.send(encodeControlFrame({ pid: 1 }));
  const frame = decodeFrame((await relay.reply()) as Buffer);
  expect(frame.flags).toBe(FrameFlag.CONTROL);
}

describe("a serve() worker (test/worker/fixtures/behaviour-worker.ts) over pipes", () => {
  let w: WorkerChild;
  let relay: ServerSide;

  beforeAll(async () => {
    w = startWorker(BEHAVIOUR_WORKER);
    relay = pipesOf(w);
    await handshake(relay);
  });

  afterAll(async () => {
    relay.send(vector("server stop command"));
    await within(w.exit, { timeout: 5000, what: "the worker to exit", detail: workerStderr(w) });
    w.child.kill("SIGKILL");
  });

  async function exchange(frame: Buffer): Promise<Buffer> {
    relay.send(frame);
    return (await relay.reply()) as Buffer;
  }

  for (const codec of [jsonContextCodec, protoContextCodec]) {
    describe(`with the ${codec.name} context (flags 0x${codec.frameFlags.toString(16)})`, () => {
      it("decodes every field of the context and gives the body as bytes", async () => {
        const context = { remote_addr: "[::1]:5555", server: `srv-${codec.name}`, uuid: UUID };
        const got = await exchange(request(codec, TcpEvent.DATA, "describe\r\n", context));
        const { context: verb, body } = splitPayload(decodeFrame(got));
        expect(verb.toString()).toBe("WRITE");
        expect(JSON.parse(body.toString())).toEqual({
          event: TcpEvent.DATA,
          remoteAddress: "[::1]:5555",
          server: `srv-${codec.name}`,
          connectionUuid: UUID,
          context: { ...context, event: TcpEvent.DATA },
          body: "describe\r\n",
        });
      });

      it("answers CONNECTED and CLOSE when the handler returns nothing (CONTINUE)", async () => {
        expect(await exchange(request(codec, TcpEvent.CONNECTED))).toEqual(reply(TcpResponse.CONTINUE));
        expect(await exchange(request(codec, TcpEvent.CLOSE))).toEqual(reply(TcpResponse.CONTINUE));
      });
    });
  }

  it("sends an ERROR frame with the message when the handler throws, then keeps serving", async () => {
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "throw\r\n"))).toEqual(
      encodeErrorFrame("boom from the handler"),
    );
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "again\r\n"))).toEqual(
      reply(TcpResponse.WRITE, "again\r\n"),
    );
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "throw-async\r\n"))).toEqual(
      encodeErrorFrame("async boom"),
    );
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "throw-string\r\n"))).toEqual(
      encodeErrorFrame("a bare string"),
    );
    expect(await exchange(request(jsonContextCodec, TcpEvent.CLOSE))).toEqual(reply(TcpResponse.CONTINUE));
    // The stack goes to stderr for the log, with the connection it happened on.
    expect(w.stderr()).toContain("Error: boom from the handler");
    expect(w.stderr()).toContain(`handler failed on DATA of connection ${UUID}`);
  });

  it("turns a return value that is not a reply into an ERROR frame", async () => {
    const got = decodeFrame(await exchange(request(jsonContextCodec, TcpEvent.DATA, "bad-reply\r\n")));
    expect(got.flags).toBe(FrameFlag.ERROR);
    expect(got.payload.toString()).toMatch(/must return a string, bytes, a TcpResponse verb/);
  });

  it("keeps console.log and process.stdout.write off the relay: they reach stderr", async () => {
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "log\r\n"))).toEqual(
      reply(TcpResponse.WRITE, "logged\r\n"),
    );
    // The next frame is still clean: nothing was interleaved on stdout.
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "x\n"))).toEqual(reply(TcpResponse.WRITE, "x\n"));
    await eventually(() => w.stderr().includes("process.stdout.write from the handler"), {
      timeout: 2000,
      what: "the handler's stdout write on stderr",
      detail: workerStderr(w),
    });
    expect(w.stderr()).toContain("console.log from the handler\n");
    expect(w.stderr()).toContain("console.info from the handler\n");
  });

  it("takes bytes, explicit verbs, and a reply the handler sent itself", async () => {
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "bytes\n"))).toEqual(
      reply(TcpResponse.WRITE, Uint8Array.of(0, 1, 2, 255)),
    );
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "self\n"))).toEqual(
      reply(TcpResponse.WRITECLOSE, "answered by the handler\r\n"),
    );
    // Exactly one reply: the next request gets its own answer, not a stray second frame.
    expect(await exchange(request(jsonContextCodec, TcpEvent.CLOSE))).toEqual(reply(TcpResponse.CONTINUE));
  });

  it("asks to be replaced with the stop request when the handler calls stop()", async () => {
    const { context, body } = splitPayload(
      decodeFrame(await exchange(request(jsonContextCodec, TcpEvent.DATA, "stop\n"))),
    );
    expect(isStopRequest(context, body)).toBe(true);
    // Until RoadRunner sends the stop command, the worker goes on answering.
    expect(await exchange(request(jsonContextCodec, TcpEvent.DATA, "still\n"))).toEqual(
      reply(TcpResponse.WRITE, "still\n"),
    );
  });
});

describe("a for-await worker (test/worker/fixtures/loop-worker.ts)", () => {
  it("gets every request, has an unanswered CLOSE acknowledged, and exits 0 after stop", async () => {
    const w = startWorker(LOOP_WORKER);
    try {
      const relay = pipesOf(w);
      await handshake(relay);
      relay.send(vector("CONNECTED request"));
      expect(await relay.reply()).toEqual(vector("CONNECTED response"));
      relay.send(vector("DATA(hello) request"));
      expect(await relay.reply()).toEqual(reply(TcpResponse.WRITE, "got:hello\r\n"));
      relay.send(vector("CLOSE request"));
      expect(await relay.reply()).toEqual(reply(TcpResponse.CONTINUE));
      relay.send(vector("server stop command"));
      expect(await relay.reply()).toEqual(reply(TcpResponse.CLOSE));
      expect(await relay.reply()).toBeNull();
      expect(await within(w.exit, { timeout: 5000, what: "the worker to exit", detail: workerStderr(w) })).toBe(0);
      expect(w.stderr()).toBe("loop ended\n");
    } finally {
      w.child.kill("SIGKILL");
    }
  });
});
