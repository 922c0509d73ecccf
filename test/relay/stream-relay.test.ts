import { spawn } from "node:child_process";
import { createServer, connect, type Socket } from "node:net";
import { PassThrough, Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import {
  encodeControlFrame,
  encodeFrame,
  encodePayloadFrame,
  FrameError,
  splitPayload,
  type Frame,
} from "../../src/goridge/index.js";
import { HandshakeError, RelayClosedError, requestPid, StreamRelay } from "../../src/relay/index.js";
import { exited, spawnWorker } from "../goridge/worker-process.js";
import { eventually } from "../fixtures/eventually.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn();
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e as Error,
  );
}

async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  const client = connect(port, "127.0.0.1");
  const [a] = await Promise.all([accepted, new Promise((resolve) => client.once("connect", resolve))]);
  server.close();
  cleanups.push(() => {
    a.destroy();
    client.destroy();
  });
  return [a, client];
}

describe("StreamRelay over a real child process pipe", () => {
  it("handshakes with the real pid, then carries frames both ways", async () => {
    const child = spawnWorker("pipes");
    cleanups.push(() => child.kill("SIGKILL"));
    const relay = new StreamRelay(child.stdout!, child.stdin!, { name: `pipes pid ${child.pid}` });
    expect(await requestPid(relay, process.pid, 10_000)).toBe(child.pid);

    // Several requests in flight: replies are queued until received, in order.
    for (let i = 0; i < 50; i++) relay.send(encodePayloadFrame(Buffer.from("{}"), Buffer.from(`msg ${i}`)));
    for (let i = 0; i < 50; i++) {
      const { context, body } = splitPayload(await relay.receive());
      expect(context.toString()).toBe("WRITE");
      expect(body.toString()).toBe(`msg ${i}`);
    }

    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    relay.send(encodePayloadFrame(Buffer.from("{}"), big));
    expect(splitPayload(await relay.receive()).body.equals(big)).toBe(true);

    relay.send(encodeControlFrame({ stop: true }));
    await exited(child);
    const err = await rejection(relay.receive());
    expect(err).toBeInstanceOf(RelayClosedError);
    expect(relay.isClosed).toBe(true);
  });

  it("a worker that prints text instead of a frame fails the handshake with the text quoted", async () => {
    const child = spawnWorker("pipes", "print");
    cleanups.push(() => child.kill("SIGKILL"));
    const relay = new StreamRelay(child.stdout!, child.stdin!, { name: "pipes" });
    const err = await rejection(requestPid(relay, process.pid, 10_000));
    expect(err).toBeInstanceOf(HandshakeError);
    expect(err.message).toContain("printed text instead of a frame");
    expect(err.message).toContain("Warning: something went wrong");
    expect((err.cause as FrameError).code).toBe("NOT_A_FRAME");
    expect(relay.isClosed).toBe(true);
  });

  it("rejects a pending receive with RelayClosedError when the worker dies", async () => {
    const child = spawnWorker("pipes");
    const relay = new StreamRelay(child.stdout!, child.stdin!, { name: "pipes" });
    await requestPid(relay, process.pid, 10_000);
    const closed = new Promise<Error | undefined>((resolve) => relay.onClose(resolve));
    const pending = relay.receive();
    child.kill("SIGKILL");
    const err = await rejection(pending);
    expect(err).toBeInstanceOf(RelayClosedError);
    expect(err.message).toContain("relay pipes is closed");
    expect(await closed).toBeInstanceOf(RelayClosedError);
    expect(() => relay.send(encodeFrame(0, [], Buffer.alloc(0)))).toThrow(RelayClosedError);
  });

  it("survives EPIPE: a worker that closed its stdin makes writes fail, which rejects, not crashes", async () => {
    // The child closes its end of the stdin pipe but stays alive, so stdout gives no EOF and
    // the only signal is the failed write.
    const child = spawn(
      process.execPath,
      ["-e", 'require("fs").closeSync(0); process.stdout.write("ready"); setTimeout(() => {}, 10000)'],
      { stdio: ["pipe", "pipe", "ignore"] },
    );
    cleanups.push(() => child.kill("SIGKILL"));
    await new Promise((resolve) => child.stdout.once("data", resolve));
    const relay = new StreamRelay(child.stdout, child.stdin, { name: "deaf worker" });
    const pending = relay.receive();
    const closed = new Promise<Error | undefined>((resolve) => relay.onClose(resolve));
    relay.send(encodePayloadFrame(Buffer.from("{}"), Buffer.alloc(256 * 1024)));
    const err = await rejection(pending);
    expect(err).toBeInstanceOf(RelayClosedError);
    expect(err.message).toContain("EPIPE");
    expect(((await closed) as RelayClosedError).cause).toMatchObject({ code: "EPIPE" });
    expect(child.exitCode).toBeNull();
  });
});

describe("StreamRelay over a net socket pair", () => {
  it("carries frames both ways over one duplex", async () => {
    const [a, b] = await socketPair();
    const left = new StreamRelay(a, a, { name: "left" });
    const right = new StreamRelay(b, b, { name: "right" });
    left.send(encodePayloadFrame(Buffer.from("ctx"), Buffer.from("to right")));
    right.send(encodePayloadFrame(Buffer.from("ctx"), Buffer.from("to left")));
    expect(splitPayload(await right.receive()).body.toString()).toBe("to right");
    expect(splitPayload(await left.receive()).body.toString()).toBe("to left");
    left.close();
    expect(await rejection(right.receive())).toBeInstanceOf(RelayClosedError);
    expect(await rejection(left.receive())).toBeInstanceOf(RelayClosedError);
  });

  it("rejects with TRUNCATED when the peer ends mid-frame", async () => {
    const [a, b] = await socketPair();
    const relay = new StreamRelay(a, a);
    const frame = encodePayloadFrame(Buffer.from("ctx"), Buffer.from("body"));
    b.end(frame.subarray(0, frame.length - 2));
    const err = await rejection(relay.receive());
    expect(err).toBeInstanceOf(FrameError);
    expect((err as FrameError).code).toBe("TRUNCATED");
    expect(err.message).toContain("2 of 23 bytes");
  });

  it("rejects with RelayClosedError when the peer resets the connection", async () => {
    const [a, b] = await socketPair();
    const relay = new StreamRelay(a, a);
    const pending = relay.receive();
    b.resetAndDestroy();
    expect(await rejection(pending)).toBeInstanceOf(RelayClosedError);
  });

  it("delivers the frames before a bad one, then rejects with its FrameError", async () => {
    const [a, b] = await socketPair();
    const relay = new StreamRelay(a, a);
    const good = encodeFrame(0, [1], Buffer.from("ok"));
    const bad = Buffer.from(good);
    bad[7] = (bad[7] as number) ^ 1;
    b.write(Buffer.concat([good, good, bad]));
    await relay.receive();
    await relay.receive();
    const err = await rejection(relay.receive());
    expect(err).toBeInstanceOf(FrameError);
    expect((err as FrameError).code).toBe("CRC_MISMATCH");
    expect(relay.isClosed).toBe(true);
    expect(() => relay.send(good)).toThrow(RelayClosedError);
  });
});

describe("StreamRelay behaviour", () => {
  it("writes each frame with exactly one write() call", () => {
    const writes: Buffer[] = [];
    const output = new Writable({
      write(chunk: Buffer, _enc, cb) {
        writes.push(chunk);
        cb();
      },
    });
    const relay = new StreamRelay(new PassThrough(), output);
    const frames = [
      encodePayloadFrame(Buffer.from("WRITE"), Buffer.from("x")),
      encodeControlFrame({ pid: 1 }),
      encodeFrame(0, [1, 2, 3], Buffer.alloc(70_000)),
    ];
    for (const f of frames) relay.send(f);
    expect(writes).toEqual(frames);
  });

  it("queues frames that arrive while nobody waits, and hands waiters frames in order", async () => {
    const input = new PassThrough();
    const relay = new StreamRelay(input, new PassThrough());
    const first = relay.receive();
    const second = relay.receive();
    for (const body of ["a", "b", "c"]) input.write(encodePayloadFrame(Buffer.alloc(0), Buffer.from(body)));
    const bodies = async (p: Promise<Frame>): Promise<string> => splitPayload(await p).body.toString();
    expect(await bodies(first)).toBe("a");
    expect(await bodies(second)).toBe("b");
    expect(await bodies(relay.receive())).toBe("c");
  });

  it("close() rejects pending receives, calls onClose without an error, and is idempotent", async () => {
    const relay = new StreamRelay(new PassThrough(), new PassThrough(), { name: "x" });
    const pending = relay.receive();
    const reasons: Array<Error | undefined> = [];
    relay.onClose((err) => reasons.push(err));
    relay.close();
    relay.close();
    const err = await rejection(pending);
    expect(err).toBeInstanceOf(RelayClosedError);
    expect(err.message).toBe("relay x is closed: it was closed locally");
    expect(reasons).toEqual([undefined]);
    const late = await new Promise<Error | undefined>((resolve) => relay.onClose(resolve));
    expect(late).toBeUndefined();
  });

  it("enforces the payload limit it was given", async () => {
    const input = new PassThrough();
    const relay = new StreamRelay(input, new PassThrough(), { maxPayloadSize: 10 });
    input.write(encodeFrame(0, [], Buffer.alloc(11)));
    const err = await rejection(relay.receive());
    expect((err as FrameError).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("drained() resolves once the output has room again", async () => {
    let release: (() => void) | undefined;
    const output = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, cb) {
        release = cb;
      },
    });
    const relay = new StreamRelay(new PassThrough(), output);
    await relay.drained();
    relay.send(encodeFrame(0, [], Buffer.alloc(64)));
    let drained = false;
    const waiting = relay.drained().then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    release?.();
    await waiting;
    expect(drained).toBe(true);
  });
});

describe("StreamRelay.readWaiting", () => {
  it("reads at once what the kernel holds for the relay, and answers false when it holds nothing", async () => {
    const [ours, peer] = await socketPair();
    // The event loop reads this socket no more: whatever arrives stays in the kernel.
    ours.pause();
    const relay = new StreamRelay(ours, ours);
    expect(relay.readWaiting()).toBe(false);
    peer.write(encodePayloadFrame(Buffer.from("WRITE"), Buffer.from("stray")));
    await eventually(() => relay.readWaiting(), { what: "the peer's frame read by readWaiting" });
    expect(relay.hasUnread).toBe(true);
    expect(splitPayload(await relay.receive()).body.toString()).toBe("stray");
    expect(relay.readWaiting()).toBe(false);
  });

  it("answers true (cannot tell) for a stream without a descriptor, and once closed", () => {
    const input = new PassThrough();
    const relay = new StreamRelay(input, new PassThrough());
    expect(relay.readWaiting()).toBe(true);
    relay.close();
    expect(relay.readWaiting()).toBe(true);
  });
});
