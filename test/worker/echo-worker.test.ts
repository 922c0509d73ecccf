/**
 * examples/echo-worker.ts as a real child process, driven with the frames RoadRunner sent to the
 * real PHP worker (test/fixtures/goridge-frames.json), over each relay RoadRunner offers.
 */
import { createServer, type Server } from "node:net";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { scaled, within } from "../fixtures/eventually.js";
import { decodeFrame, encodeFrame, encodePayloadFrame, FrameFlag, splitPayload } from "../../src/goridge/index.js";
import { encodePidReply, SocketRelayListener } from "../../src/relay/index.js";
import { TcpResponse, verbBytes, verbFromBytes } from "../../src/protocol/index.js";
import {
  acceptRelay,
  ECHO_WORKER,
  pipesOf,
  startWorker,
  vector,
  workerStderr,
  type ServerSide,
  type WorkerChild,
} from "./harness.js";

// What PHP's respond("bye\r\n", TcpResponse::RespondClose) wrote (docs/wire.md#reply-frames), byte for byte.
const PHP_WRITECLOSE_BYE = Buffer.from(
  "14000f00000078f1e6710000" + "0a000000" + Buffer.from("WRITECLOSEbye\r\n").toString("hex"),
  "hex",
);

/** The captured session, frame by frame, asserting each reply's bytes; ends with exit code 0. */
async function playFixtureSession(relay: ServerSide, w: WorkerChild): Promise<void> {
  const pid = w.child.pid as number;

  // Pid handshake: PHP's reply, with this worker's pid, the context codec it reads besides JSON
  // and its offer to echo event ids (RoadRunner ignores the extra keys; rr-tcp sends protobuf
  // contexts and event ids only to workers that say so). The captured requests carry no event
  // id, as RoadRunner's do, so the replies below must carry none either.
  relay.send(vector("control: pid request"));
  const pidReply = (await relay.reply()) as Buffer;
  expect(pidReply).toEqual(encodePidReply(pid, { contextCodecs: ["proto"], echoEventId: true }));
  expect(pidReply).toEqual(
    encodeFrame(FrameFlag.CONTROL, [], Buffer.from(`{"pid":${pid},"context_codecs":["proto"],"echo_event_id":true}`)),
  );
  const phpPidReply = vector("control: pid reply");
  expect(pidReply.subarray(0, 2)).toEqual(phpPidReply.subarray(0, 2)); // 0x13, flags CONTROL only

  // CONNECTED -> exactly the CONTINUE frame PHP sent.
  relay.send(vector("CONNECTED request"));
  expect(await relay.reply()).toEqual(vector("CONNECTED response"));

  // DATA(hello\r\n) -> WRITE hello\r\n.
  relay.send(vector("DATA(hello) request"));
  const write = (await relay.reply()) as Buffer;
  expect(write).toEqual(encodePayloadFrame(verbBytes(TcpResponse.WRITE), Buffer.from("hello\r\n")));
  // The header layout, field by field (docs/wire.md#frame-header).
  expect(write[0]).toBe(0x14); // version 1, 4 header words (one option)
  expect(write[1]).toBe(0x00); // no flags
  expect(write.readUInt32LE(2)).toBe(5 + 7); // payload = verb + body
  expect(write.readUInt32LE(6)).toBe(crc32(write.subarray(0, 6)));
  expect([write[10], write[11]]).toEqual([0, 0]);
  expect(write.readUInt32LE(12)).toBe(5); // option 0: context (verb) length
  expect(write.subarray(16).toString("latin1")).toBe("WRITEhello\r\n");
  expect(write.length).toBe(16 + 12);

  // DATA(quit\r\n) -> WRITECLOSE bye\r\n, as PHP writes it.
  relay.send(vector("DATA(quit) request"));
  const bye = (await relay.reply()) as Buffer;
  expect(bye).toEqual(encodePayloadFrame(verbBytes(TcpResponse.WRITECLOSE), Buffer.from("bye\r\n")));
  expect(bye).toEqual(PHP_WRITECLOSE_BYE);

  // CLOSE -> any valid reply: one option, a known verb.
  relay.send(vector("CLOSE request"));
  const ack = decodeFrame((await relay.reply()) as Buffer);
  expect(ack.flags & FrameFlag.ERROR).toBe(0);
  expect(verbFromBytes(splitPayload(ack).context)).not.toBe(TcpResponse.UNSPECIFIED);

  // Stop -> the CLOSE frame PHP's waitRequest() sends, then the relay ends and the process exits 0.
  relay.send(vector("control: stop"));
  expect(await relay.reply()).toEqual(vector("after stop: frame from TcpWorker::waitRequest()->close()"));
  expect(await relay.reply()).toBeNull();
  expect(await within(w.exit, { timeout: 5000, what: "the worker to exit", detail: workerStderr(w) })).toBe(0);
  expect(w.stderr()).toBe("");
}

describe("examples/echo-worker.ts against the captured RoadRunner frames", () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const fn of cleanup.splice(0)) fn();
  });

  function track(w: WorkerChild): WorkerChild {
    cleanup.push(() => w.child.kill("SIGKILL"));
    return w;
  }

  async function listen(server: Server, address: number | string): Promise<void> {
    cleanup.push(() => server.close());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if (typeof address === "number") server.listen(address, "127.0.0.1", resolve);
      else server.listen(address, resolve);
    });
  }

  it("over pipes (stdin/stdout)", async () => {
    const w = track(startWorker(ECHO_WORKER, { RR_RELAY: "pipes" }));
    await playFixtureSession(pipesOf(w), w);
  });

  it("over a tcp relay", async () => {
    const server = createServer();
    await listen(server, 0);
    const port = (server.address() as { port: number }).port;
    const w = track(startWorker(ECHO_WORKER, { RR_RELAY: `tcp://127.0.0.1:${port}` }));
    const relay = await acceptRelay(server, w);
    await playFixtureSession(relay, w);
  });

  it("over a unix socket relay", async () => {
    const path = join(tmpdir(), `rr-tcp-worker-${process.pid}-${Date.now()}.sock`);
    cleanup.push(() => rmSync(path, { force: true }));
    const server = createServer();
    await listen(server, path);
    const w = track(startWorker(ECHO_WORKER, { RR_RELAY: `unix://${path}` }));
    const relay = await acceptRelay(server, w);
    await playFixtureSession(relay, w);
  });

  it("is paired with its process by goridge's SocketRelayListener (the pid it reports is its own)", async () => {
    const listener = await SocketRelayListener.listen({ kind: "tcp", host: "127.0.0.1", port: 0 });
    cleanup.push(() => void listener.close());
    const w = track(startWorker(ECHO_WORKER, { RR_RELAY: listener.address }));
    const relay = await listener.waitForWorker(w.child.pid as number, scaled(10_000));
    relay.send(vector("DATA(hello) request"));
    const frame = await within(relay.receive(), { timeout: 5000, what: "the reply", detail: workerStderr(w) });
    const { context, body } = splitPayload(frame);
    expect([context.toString(), body.toString()]).toEqual(["WRITE", "hello\r\n"]);
    relay.send(vector("server stop command"));
    expect(await within(w.exit, { timeout: 5000, what: "the worker to exit", detail: workerStderr(w) })).toBe(0);
  });
});
