/**
 * serve()'s two modes (RR_TCP_WORKER_MODE) in a real worker process over pipes: the blocking
 * mode (one read and one write per event, the default) and the event-loop mode must answer every
 * request with the same bytes: sync and async handlers, handlers that wait for a timer, a socket
 * or the RPC client, both context codecs, event ids, handler errors, the stop command. Then what
 * only the blocking mode does: the event loop sleeps between events, and a worker whose fd 0
 * turns non-blocking goes on in event-loop mode.
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, quiet, within } from "../fixtures/eventually.js";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import {
  decodeFrame,
  encodeErrorFrame,
  encodePayloadFrame,
  encodeRpcReply,
  FrameFlag,
  FrameReader,
  isStopRequest,
  parseControl,
  parseRpcRequest,
  splitPayload,
} from "../../src/goridge/index.js";
import {
  jsonContextCodec,
  protoContextCodec,
  TcpResponse,
  verbBytes,
  type ContextCodec,
} from "../../src/protocol/index.js";
import { MODE_ENV } from "../../src/worker/index.js";
import { pipesOf, startWorker, vector, workerStderr, type ServerSide, type WorkerChild } from "./harness.js";
import { fileURLToPath } from "node:url";

const MODES_WORKER = fileURLToPath(new URL("./fixtures/modes-worker.ts", import.meta.url));
const UUID = "0b8f2f4e-6a55-4f0e-9d3c-7f1a2b3c4d5e";

function request(
  body: string,
  options: { codec?: ContextCodec; event?: TcpEvent; eventId?: number; context?: Partial<RequestContext> } = {},
): Buffer {
  const codec = options.codec ?? jsonContextCodec;
  const ctx = RequestContext.create({
    remote_addr: "127.0.0.1:40000",
    server: "tcp-a",
    uuid: UUID,
    event: options.event ?? TcpEvent.DATA,
    ...options.context,
  });
  return encodePayloadFrame(codec.encode(ctx), Buffer.from(body, "latin1"), codec.frameFlags, 0, options.eventId);
}

function reply(verb: TcpResponse, body: string | Uint8Array = "", eventId?: number): Buffer {
  return encodePayloadFrame(verbBytes(verb), typeof body === "string" ? Buffer.from(body) : body, 0, 0, eventId);
}

const write = (body: string | Uint8Array, eventId?: number): Buffer => reply(TcpResponse.WRITE, body, eventId);

/** A server that answers every "ping" with "pong". */
async function pongServer(): Promise<Server> {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.on("data", () => socket.write("pong"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** RoadRunner's RPC, as far as tcp.Close goes: answers every call with `true`, and counts them. */
async function rpcServer(): Promise<{ server: Server; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((socket) => {
    socket.on("error", () => {});
    const reader = new FrameReader();
    socket.on("data", (chunk: Buffer) =>
      reader.push(chunk, (frame) => {
        const call = parseRpcRequest(frame);
        calls.push(`${call.method}(${call.body.toString()})`);
        socket.write(encodeRpcReply(call, Buffer.from("true")));
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, calls };
}

const portOf = (server: Server): number => (server.address() as { port: number }).port;

describe.each(["blocking", "event-loop"])("serve() in %s mode over pipes", (mode) => {
  let w: WorkerChild;
  let relay: ServerSide;
  let pong: Server;
  let rpc: { server: Server; calls: string[] };

  beforeAll(async () => {
    pong = await pongServer();
    rpc = await rpcServer();
    w = startWorker(MODES_WORKER, { [MODE_ENV]: mode, RR_RPC: `tcp://127.0.0.1:${portOf(rpc.server)}` });
    relay = pipesOf(w);
    relay.send(vector("control: pid request"));
    const hello = parseControl(decodeFrame((await relay.reply()) as Buffer));
    expect(hello).toEqual({ pid: w.child.pid, context_codecs: ["proto"], echo_event_id: true });
  });

  afterAll(() => {
    w.child.kill("SIGKILL");
    pong.close();
    rpc.server.close();
  });

  async function exchange(frame: Buffer): Promise<Buffer> {
    relay.send(frame);
    return (await relay.reply()) as Buffer;
  }

  it("serves in the mode asked for", async () => {
    expect(await exchange(request("mode\r\n"))).toEqual(write(mode));
  });

  it("answers the captured RoadRunner requests with the PHP worker's bytes", async () => {
    expect(await exchange(vector("CONNECTED request"))).toEqual(vector("CONNECTED response"));
    expect(await exchange(vector("DATA(hello) request"))).toEqual(write("hello\r\n"));
    expect(await exchange(vector("CLOSE request"))).toEqual(reply(TcpResponse.CONTINUE));
  });

  for (const codec of [jsonContextCodec, protoContextCodec]) {
    it(`decodes the ${codec.name} context, also when the same context bytes come again`, async () => {
      const context = { remote_addr: "[::1]:5555", server: `srv-${codec.name}`, uuid: UUID };
      const expected = JSON.stringify({
        event: TcpEvent.DATA,
        remoteAddress: "[::1]:5555",
        server: `srv-${codec.name}`,
        connectionUuid: UUID,
        context: { ...context, event: TcpEvent.DATA },
      });
      for (let i = 0; i < 3; i++) {
        expect(await exchange(request("describe\r\n", { codec, context }))).toEqual(write(expected));
      }
      // Another connection's context, then the first one's again.
      const other = { ...context, uuid: "11111111-2222-4333-8444-555555555555" };
      const got = JSON.parse(
        splitPayload(decodeFrame(await exchange(request("describe\r\n", { codec, context: other })))).body.toString(),
      );
      expect(got.connectionUuid).toBe(other.uuid);
      expect(await exchange(request("describe\r\n", { codec, context }))).toEqual(write(expected));
    });
  }

  it("echoes event ids in replies and ERROR frames, and sends none when it got none", async () => {
    expect(await exchange(request("x\n", { eventId: 7 }))).toEqual(write("x\n", 7));
    expect(await exchange(request("timer:1\n", { eventId: 4_000_000_001 }))).toEqual(write("timer 1", 4_000_000_001));
    expect(await exchange(request("throw\n", { eventId: 9 }))).toEqual(encodeErrorFrame("boom from the handler", 9));
    expect(await exchange(request("throw-async\n", { eventId: 10 }))).toEqual(encodeErrorFrame("async boom", 10));
    expect(await exchange(request("y\n"))).toEqual(write("y\n"));
  });

  it("sends an ERROR frame when the handler throws or rejects, then keeps serving", async () => {
    expect(await exchange(request("throw\r\n"))).toEqual(encodeErrorFrame("boom from the handler"));
    expect(await exchange(request("again\r\n"))).toEqual(write("again\r\n"));
    expect(await exchange(request("throw-async\r\n"))).toEqual(encodeErrorFrame("async boom"));
    expect(await exchange(request("after\r\n"))).toEqual(write("after\r\n"));
    expect(w.stderr()).toContain(`handler failed on DATA of connection ${UUID}`);
  });

  it("lets an async handler wait for a timer, a socket and the RPC client", async () => {
    expect(await exchange(request("timer:20\r\n"))).toEqual(write("timer 20"));
    expect(await exchange(request(`socket:${portOf(pong)}\r\n`))).toEqual(write("socket pong"));
    const calls = rpc.calls.length;
    expect(await exchange(request("rpc\r\n"))).toEqual(write("rpc true"));
    expect(rpc.calls.slice(calls)).toEqual([`tcp.Close(${JSON.stringify(UUID)})`]);
    // And the next plain event is served as before.
    expect(await exchange(request("plain\r\n"))).toEqual(write("plain\r\n"));
  });

  it("takes a reply the handler sent itself, and the stop request", async () => {
    expect(await exchange(request("self\n"))).toEqual(reply(TcpResponse.WRITECLOSE, "answered by the handler\r\n"));
    const { context, body } = splitPayload(decodeFrame(await exchange(request("stop\n"))));
    expect(isStopRequest(context, body)).toBe(true);
    expect(await exchange(request("still\n"))).toEqual(write("still\n"));
  });

  it("carries requests and replies larger than a pipe's buffer, each byte intact", async () => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const got = splitPayload(
      decodeFrame(
        await exchange(
          encodePayloadFrame(jsonContextCodec.encode(RequestContext.create({ uuid: UUID, event: TcpEvent.DATA })), big),
        ),
      ),
    );
    expect(got.context.toString()).toBe("WRITE");
    expect(got.body.equals(big)).toBe(true);
    // Compared with equals(): toEqual on a megabyte takes seconds.
    expect((await exchange(request("big:1000000\n"))).equals(write(Buffer.alloc(1_000_000, "b")))).toBe(true);
    expect(await exchange(request("small\n"))).toEqual(write("small\n"));
  });

  it("gets a flood of stderr output out to the log before it waits for the next event", async () => {
    expect(await exchange(request("flood:2000\n"))).toEqual(write("flooded"));
    await eventually(() => w.stderr().includes("flood 1999 "), { what: "the last flood line", detail: () => "" });
    expect(await exchange(request("after flood\n"))).toEqual(write("after flood\n"));
  });

  it("ends on the stop command with the CLOSE frame PHP sends, and exits 0", async () => {
    // The CLOSE event's request and the stop command in one write: both are read and answered.
    relay.send(Buffer.concat([vector("CLOSE request"), vector("server stop command")]));
    expect(await relay.reply()).toEqual(reply(TcpResponse.CONTINUE));
    expect(await relay.reply()).toEqual(vector("after stop: frame from TcpWorker::waitRequest()->close()"));
    expect(await relay.reply()).toBeNull();
    expect(await within(w.exit, { timeout: 5000, what: "the worker to exit", detail: workerStderr(w) })).toBe(0);
  });
});

describe("serve() in blocking mode, what only it does", () => {
  let w: WorkerChild;
  let relay: ServerSide;

  beforeAll(async () => {
    // No RR_TCP_WORKER_MODE: blocking is the default on pipes.
    w = startWorker(MODES_WORKER, { [MODE_ENV]: "" });
    relay = pipesOf(w);
    relay.send(vector("control: pid request"));
    expect(decodeFrame((await relay.reply()) as Buffer).flags).toBe(FrameFlag.CONTROL);
  });

  afterAll(() => {
    w.child.kill("SIGKILL");
  });

  async function exchange(frame: Buffer): Promise<Buffer> {
    relay.send(frame);
    return (await relay.reply()) as Buffer;
  }

  it("is the default", async () => {
    expect(await exchange(request("mode\n"))).toEqual(write("blocking"));
  });

  it("runs no timer between events: one fires once a handler waits again", async () => {
    expect(await exchange(request("later:1\n"))).toEqual(write("scheduled"));
    // The worker sleeps in its read: the 1 ms timer cannot fire.
    await quiet(300);
    expect(w.stderr()).not.toContain("later fired");
    // An async handler lets the event loop run: the overdue timer fires then.
    expect(await exchange(request("timer:20\n"))).toEqual(write("timer 20"));
    await eventually(() => w.stderr().includes("later fired"), {
      what: "the timer to fire",
      detail: workerStderr(w),
    });
  });

  it("goes on in event-loop mode once fd 0 turns non-blocking, losing no byte", async () => {
    // The request that opens stdin and the start of the next one in one write: the worker reads
    // both with one blocking read, and holds the partial frame when its next read cannot block.
    const next = request("split\n", { eventId: 3 });
    relay.send(Buffer.concat([request("stdin\n"), next.subarray(0, 20)]));
    expect(await relay.reply()).toEqual(write("opened"));
    await eventually(() => w.stderr().includes("serving in event-loop mode from now on"), {
      what: "the worker to say it left blocking mode",
      detail: workerStderr(w),
    });
    relay.send(next.subarray(20));
    expect(await relay.reply()).toEqual(write("split\n", 3));
    expect(await exchange(request("mode\n"))).toEqual(write("event-loop"));
    expect(await exchange(request("timer:5\n"))).toEqual(write("timer 5"));
    relay.send(vector("server stop command"));
    expect(await relay.reply()).toEqual(vector("after stop: frame from TcpWorker::waitRequest()->close()"));
    expect(await within(w.exit, { timeout: 5000, what: "the worker to exit", detail: workerStderr(w) })).toBe(0);
  });
});
