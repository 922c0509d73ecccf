import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectRelay,
  encodePidReply,
  HandshakeError,
  RelayClosedError,
  RelayConnectError,
  SocketRelayListener,
  type StreamRelay,
} from "../../src/relay/index.js";
import { encodeControlFrame, encodePayloadFrame, splitPayload } from "../../src/goridge/index.js";
import { ListenError, parseRelayAddress } from "../../src/net/index.js";
import { eventually, scaled } from "../fixtures/eventually.js";
import { exited, spawnWorker } from "../goridge/worker-process.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rr-goridge-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function listen(address: string, opts = {}): Promise<{ listener: SocketRelayListener; errors: Error[] }> {
  const errors: Error[] = [];
  const listener = await SocketRelayListener.listen(parseRelayAddress(address), {
    onError: (err) => errors.push(err),
    ...opts,
  });
  cleanups.push(() => listener.close());
  return { listener, errors };
}

async function echo(relay: StreamRelay, text: string): Promise<string> {
  relay.send(encodePayloadFrame(Buffer.from("{}"), Buffer.from(text)));
  const { context, body } = splitPayload(await relay.receive());
  expect(context.toString()).toBe("WRITE");
  return body.toString();
}

/** A worker in this process that answers the handshake with a chosen pid. */
async function fakeWorker(address: string, pid: number): Promise<StreamRelay> {
  const relay = await connectRelay(address);
  cleanups.push(() => relay.close());
  void relay.receive().then(
    () => relay.send(encodePidReply(pid)),
    () => {},
  );
  return relay;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e as Error,
  );
}

describe("SocketRelayListener with real worker processes", () => {
  it("listens on tcp port 0, reports the real port, and pairs a child by its real pid", async () => {
    const { listener, errors } = await listen("tcp://127.0.0.1:0");
    expect(listener.address).toMatch(/^tcp:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
    const child = spawnWorker(listener.address);
    cleanups.push(() => child.kill("SIGKILL"));
    const relay = await listener.waitForWorker(child.pid as number, scaled(15_000));
    expect(await echo(relay, "over tcp")).toBe("over tcp");
    relay.send(encodeControlFrame({ stop: true }));
    await exited(child);
    expect(await rejection(relay.receive())).toBeInstanceOf(RelayClosedError);
    expect(errors).toEqual([]);
  });

  it("listens on a unix socket in the temp dir, replacing a stale socket file", async () => {
    const path = join(tempDir(), "rr.sock");
    // A process that dies while listening leaves its socket file behind.
    const stale = spawn(process.execPath, [
      "-e",
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await exited(stale);
    expect(statSync(path).isSocket()).toBe(true);

    const { listener, errors } = await listen(`unix://${path}`);
    expect(listener.address).toBe(`unix://${path}`);
    const children = [spawnWorker(listener.address), spawnWorker(listener.address)];
    for (const child of children) cleanups.push(() => child.kill("SIGKILL"));
    const relays = await Promise.all(children.map((c) => listener.waitForWorker(c.pid as number, scaled(15_000))));
    expect(await echo(relays[0] as StreamRelay, "first")).toBe("first");
    expect(await echo(relays[1] as StreamRelay, "second")).toBe("second");
    expect(errors).toEqual([]);
    await listener.close();
    expect(existsSync(path)).toBe(false);
    // Relays already handed out outlive the listener.
    expect(await echo(relays[0] as StreamRelay, "still there")).toBe("still there");
  });

  it("closes a connection whose handshake fails, reports it, and keeps serving others", async () => {
    const { listener, errors } = await listen("tcp://127.0.0.1:0", { handshakeTimeoutMs: scaled(10_000) });
    const liar = spawnWorker(listener.address, "bad-pid");
    const rude = spawnWorker(listener.address, "no-control");
    const good = spawnWorker(listener.address);
    for (const c of [liar, rude, good]) cleanups.push(() => c.kill("SIGKILL"));
    const relay = await listener.waitForWorker(good.pid as number, scaled(15_000));
    expect(await echo(relay, "unaffected")).toBe("unaffected");
    await eventually(() => errors.length === 2, {
      what: "two failed handshakes reported",
      detail: () => `errors: ${errors.map((e) => e.message).join("; ")}`,
    });
    const messages = errors.map((e) => e.message).sort();
    expect(messages[0]).toContain("pid should be greater than 0");
    expect(messages[1]).toContain("no CONTROL flag");
    for (const err of errors) expect(err).toBeInstanceOf(HandshakeError);
    // The failed workers saw their connection closed and exited.
    await Promise.all([exited(liar), exited(rude)]);
  });

  it("pairs by reported pid: a worker reporting another pid is not handed out as this one", async () => {
    const { listener } = await listen("tcp://127.0.0.1:0");
    const child = spawnWorker(listener.address, "wrong-pid");
    cleanups.push(() => child.kill("SIGKILL"));
    const pid = child.pid as number;
    const err = await rejection(listener.waitForWorker(pid, 1500));
    expect(err).toBeInstanceOf(HandshakeError);
    const relay = await listener.waitForWorker(pid + 1, scaled(10_000));
    expect(await echo(relay, "whoever you are")).toBe("whoever you are");
  });

  it("times out a silent worker, naming the timeout", async () => {
    const { listener, errors } = await listen("tcp://127.0.0.1:0", { handshakeTimeoutMs: 300 });
    const silent = spawnWorker(listener.address, "silent");
    cleanups.push(() => silent.kill("SIGKILL"));
    await eventually(() => errors.length === 1, { timeout: 15_000, what: "the handshake timeout reported" });
    expect(errors[0]?.message).toContain("within 300 ms");
  });
});

describe("SocketRelayListener pairing rules", () => {
  it("parks a worker that connects before anyone waits for it", async () => {
    const { listener } = await listen("tcp://127.0.0.1:0");
    const worker = await fakeWorker(listener.address, 424_242);
    await eventually(() => listener.parkedPids.includes(424_242), { what: "the worker parked after its handshake" });
    const relay = await listener.waitForWorker(424_242, scaled(1000));
    relay.send(encodePayloadFrame(Buffer.from("c"), Buffer.from("hello")));
    expect(splitPayload(await worker.receive()).body.toString()).toBe("hello");
  });

  it("drops a parked worker nobody asks for, and reports it", async () => {
    const { listener, errors } = await listen("tcp://127.0.0.1:0", { parkTimeoutMs: 100 });
    const worker = await fakeWorker(listener.address, 515_151);
    await eventually(() => errors.length === 1, { what: "the dropped parked worker reported" });
    expect(errors[0]?.message).toContain("pid 515151");
    expect(errors[0]?.message).toContain("100 ms");
    await eventually(() => worker.isClosed, { what: "the parked worker's relay closed" });
  });

  it("rejects a second connection claiming the pid of a parked one", async () => {
    const { listener, errors } = await listen("tcp://127.0.0.1:0");
    await fakeWorker(listener.address, 777);
    const second = await fakeWorker(listener.address, 777);
    await eventually(() => errors.length === 1, { what: "the second connection reported" });
    expect(errors[0]?.message).toContain("second connection");
    await eventually(() => second.isClosed, { what: "the second connection's relay closed" });
  });

  it("times out a wait, naming the pid and the timeout", async () => {
    const { listener } = await listen("tcp://127.0.0.1:0");
    const err = await rejection(listener.waitForWorker(999_999, 50));
    expect(err).toBeInstanceOf(HandshakeError);
    expect(err.message).toContain("pid 999999");
    expect(err.message).toContain("within 50 ms");
  });

  it("refuses two waits for the same pid and honours an abort signal", async () => {
    const { listener } = await listen("tcp://127.0.0.1:0");
    const controller = new AbortController();
    const first = listener.waitForWorker(1234, 5000, controller.signal);
    expect(await rejection(listener.waitForWorker(1234, 5000))).toBeInstanceOf(HandshakeError);
    controller.abort(new Error("process exited"));
    expect((await rejection(first)).message).toBe("process exited");
  });

  it("rejects pending waits when closed", async () => {
    const { listener } = await listen("tcp://127.0.0.1:0");
    const waiting = rejection(listener.waitForWorker(4321, 5000));
    await listener.close();
    expect(await waiting).toBeInstanceOf(RelayClosedError);
    expect(await rejection(listener.waitForWorker(4321, 5000))).toBeInstanceOf(RelayClosedError);
  });

  it("refuses to remove a file that is not a socket, and reports a busy port", async () => {
    const path = join(tempDir(), "not-a-socket");
    writeFileSync(path, "data");
    const err = await rejection(SocketRelayListener.listen({ kind: "unix", path }));
    expect(err).toBeInstanceOf(ListenError);
    expect(err.message).toContain("is not a socket");
    expect(existsSync(path)).toBe(true);

    const { listener } = await listen("tcp://127.0.0.1:0");
    const busy = await rejection(SocketRelayListener.listen(parseRelayAddress(listener.address)));
    expect(busy).toBeInstanceOf(ListenError);
    expect(busy.message).toContain("EADDRINUSE");
  });

  it("connectRelay reports a refused connection with the address", async () => {
    const path = join(tempDir(), "nobody.sock");
    const err = await rejection(connectRelay(`unix://${path}`));
    expect(err).toBeInstanceOf(RelayConnectError);
    expect(err.message).toContain(`unix://${path}`);
  });
});
