/**
 * RoadRunner's RPC at rpc.listen, served by a running rr-tcp: real sockets, real workers. The
 * caller is the SDK's RpcClient, which builds frames as spiral/goridge's RPC does; a worker uses
 * it through RR_RPC the way a PHP app closes a connection. Raw frames check what a client that
 * is not ours sees: the reply's layout, Go's key order, errors, and a broken caller that harms
 * nobody else.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeFrame, encodeRpcRequest, FrameFlag, FrameReader, type Frame } from "../../src/goridge/index.js";
import { parseRelayAddress } from "../../src/net/index.js";
import { RpcCallError, RpcClient } from "../../src/worker/index.js";
import { ROOT, startService, TSX_LOADER, type RunningService } from "../integration/harness.js";
import { eventually, quiet, within } from "../fixtures/eventually.js";
import { drains, openClient } from "../server/harness.js";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { RpcServer } from "../../src/control/rpc-server.js";
import type { RpcMethod } from "../../src/control/rpc-methods.js";
import { LIMITS } from "../../src/limits.js";
import { pino } from "pino";
import { Writable } from "node:stream";

const CONFIG = `
rpc:
  listen: tcp://127.0.0.1:0
server:
  command: \${WORKER_CMD}
  env:
    RECORD_FILE: \${RECORD_FILE}
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
  pool: { num_workers: 2, destroy_timeout: 5s }
`;

let rr: RunningService;
let rpc: RpcClient;
beforeAll(async () => {
  rr = await startService(CONFIG);
  rpc = await RpcClient.connect(rr.service.rpc!.address);
});
afterAll(async () => {
  rpc?.close();
  await rr?.stop();
});

interface RawConnection {
  socket: Socket;
  next(): Promise<Frame>;
  closed: Promise<void>;
}

/** An RPC connection without the SDK: bytes out, frames in. */
async function rawConnection(): Promise<RawConnection> {
  return rawConnectionTo(rr.service.rpc!.address);
}

async function rawConnectionTo(listen: string): Promise<RawConnection> {
  const address = parseRelayAddress(listen);
  if (address.kind !== "tcp") throw new Error("expected a tcp RPC address");
  const socket = connect({ host: address.host, port: address.port });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const reader = new FrameReader();
  const frames: Frame[] = [];
  const waiting: Array<(f: Frame) => void> = [];
  socket.on("data", (chunk: Buffer) =>
    reader.push(chunk, (frame) => {
      const copy = { ...frame, payload: Buffer.from(frame.payload) };
      const w = waiting.shift();
      if (w) w(copy);
      else frames.push(copy);
    }),
  );
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    next: () => {
      const f = frames.shift();
      return f ? Promise.resolve(f) : within(new Promise<Frame>((r) => waiting.push(r)), { what: "an RPC reply" });
    },
    closed,
  };
}

describe("rpc.listen", () => {
  it("gives workers the bound address as RR_RPC, where a worker closes its own connection with tcp.Close", async () => {
    expect(rr.service.rpc!.address).toMatch(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const client = await openClient(rr.port("main"));
    const uuid = await rr.recording.uuidOf(client.socket.localPort);
    client.socket.write("rpcclose\r\n");
    await within(client.ended, { what: "FIN after the worker's tcp.Close" });
    await rr.recording.until((all) => all.some((r) => r.uuid === uuid && r.event === "CLOSE"), "CLOSE");
    expect(rr.recording.log(uuid)).toEqual(["CONNECTED", "DATA:rpcclose\r\n", "RPC:tcp.Close=true", "CLOSE"]);
    // Closed while its event was with the worker: the reply's WRITE is dropped, as RoadRunner's is.
    expect(client.received()).toBe("");
  });

  it("tcp.Close closes an idle connection with its one CLOSE event, and answers true as RoadRunner does", async () => {
    const client = await openClient(rr.port("main"));
    const uuid = await rr.recording.uuidOf(client.socket.localPort);
    client.socket.write("hello\r\n");
    await client.receive("hello\r\n");
    expect(await rpc.call("tcp.Close", uuid)).toBe(true);
    await within(client.ended, { what: "FIN after tcp.Close" });
    await rr.recording.until((all) => all.some((r) => r.uuid === uuid && r.event === "CLOSE"), "CLOSE");
    expect(rr.recording.log(uuid)).toEqual(["CONNECTED", "DATA:hello\r\n", "CLOSE"]);
    // Unknown (and already closed) uuids answer true too: RoadRunner never says otherwise.
    expect(await rpc.call("tcp.Close", uuid)).toBe(true);
    expect(await rpc.call("tcp.Close", "00000000-0000-4000-8000-000000000000")).toBe(true);
  });

  it("answers a PHP-shaped request with seq and method echoed and the JSON result, flags json", async () => {
    const raw = await rawConnection();
    try {
      raw.socket.write(encodeRpcRequest(7, "resetter.List", FrameFlag.CODEC_JSON, Buffer.from("true")));
      const reply = await raw.next();
      expect(reply.flags).toBe(FrameFlag.CODEC_JSON);
      expect(reply.options).toEqual([7, "resetter.List".length]);
      expect(reply.payload.toString()).toBe('resetter.List["tcp"]');
    } finally {
      raw.socket.destroy();
    }
  });

  it("informer.Workers lists the pool's workers with RoadRunner's process.State fields, in Go's order", async () => {
    // The previous test's last CLOSE event may still be with a worker.
    await eventually(() => rr.service.pool.state().workers.every((w) => w.status === WorkerStatus.READY), {
      what: "every worker ready",
    });
    const raw = await rawConnection();
    try {
      raw.socket.write(encodeRpcRequest(1, "informer.Workers", FrameFlag.CODEC_JSON, Buffer.from('"tcp"')));
      const reply = await raw.next();
      const json = reply.payload.subarray("informer.Workers".length).toString();
      const parsed = JSON.parse(json) as { workers: Array<Record<string, unknown>> };
      const pids = rr.service.pool.state().workers.map((w) => w.pid);
      expect(parsed.workers.map((w) => w.pid).sort()).toEqual([...pids].sort());
      for (const worker of parsed.workers) {
        expect(Object.keys(worker)).toEqual([
          "pid",
          "status",
          "numExecs",
          "created",
          "memoryUsage",
          "CPUPercent",
          "command",
          "statusStr",
        ]);
        expect([worker.status, worker.statusStr]).toEqual([1, "ready"]);
        // Over its life, as RoadRunner's: starting a worker under tsx costs CPU, and one core is 100.
        expect(worker.CPUPercent).toBeGreaterThan(0);
        expect(worker.CPUPercent).toBeLessThan(100 * 64);
        // Unix nanoseconds, as Go's time.UnixNano: within a minute of now.
        const createdMs = Number(BigInt(/"created":(\d+)/.exec(json)![1]!) / 1_000_000n);
        expect(Math.abs(createdMs - Date.now())).toBeLessThan(60_000);
      }
      raw.socket.write(encodeRpcRequest(2, "informer.Workers", FrameFlag.CODEC_JSON, Buffer.from('"http"')));
      expect((await raw.next()).payload.toString()).toBe('informer.Workers{"workers":null}');
    } finally {
      raw.socket.destroy();
    }
  });

  it("resetter.Reset replaces every worker", async () => {
    const before = rr.service.pool.state().workers.map((w) => w.pid);
    expect(await rpc.call("resetter.Reset", "tcp")).toBe(true);
    const after = rr.service.pool.state().workers.map((w) => w.pid);
    expect(after).toHaveLength(2);
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);
    await expect(rpc.call("resetter.Reset", "http")).rejects.toThrow(/no such plugin: http/);
  });

  it("answers what a caller sent before its FIN (as `nc -N` does), then closes, as Go's net/rpc", async () => {
    const raw = await rawConnection();
    const ended = new Promise<void>((resolve) => raw.socket.once("end", () => resolve()));
    // A slow call (it replaces every worker) and a quick one, then FIN at once.
    raw.socket.write(encodeRpcRequest(1, "resetter.Reset", FrameFlag.CODEC_JSON, Buffer.from('"tcp"')));
    raw.socket.end(encodeRpcRequest(2, "resetter.List", FrameFlag.CODEC_JSON, Buffer.from("true")));
    const first = await raw.next();
    expect([first.options, first.payload.toString()]).toEqual([[1, 14], "resetter.Resettrue"]);
    const second = await raw.next();
    expect([second.options, second.payload.toString()]).toEqual([[2, 13], 'resetter.List["tcp"]']);
    await within(ended, { what: "the server's FIN after the replies" });
  });

  it("informer.AddWorker and RemoveWorker grow and shrink the pool, answering false as RoadRunner", async () => {
    const count = () => rr.service.pool.state().workers.length;
    expect(count()).toBe(2);
    expect(await rpc.call("informer.AddWorker", "tcp")).toBe(false);
    expect(count()).toBe(3);
    expect(await rpc.call("informer.RemoveWorker", "tcp")).toBe(false);
    expect(count()).toBe(2);
    await expect(rpc.call("informer.AddWorker", "jobs")).rejects.toThrow(/no such plugin: jobs/);
    expect(count()).toBe(2);
  });

  it("names what is wrong in an error frame (flag ERROR) and keeps the connection", async () => {
    const failures: Array<[string, unknown, RegExp]> = [
      ["tcp.Open", "x", /^rpc: can't find method tcp\.Open$/],
      ["http.Reset", "x", /^rpc: can't find service http\.Reset$/],
      ["Close", "x", /^rpc: service\/method request ill-formed: Close$/],
      ["tcp.Close", 42, /tcp\.Close takes the connection's uuid \(a JSON string\), got a number/],
    ];
    for (const [method, arg, message] of failures) {
      const err = await rpc.call(method, arg).catch((e: unknown) => e);
      expect(err, method).toBeInstanceOf(RpcCallError);
      expect((err as RpcCallError).serverMessage).toMatch(message);
    }
    const raw = await rawConnection();
    try {
      raw.socket.write(encodeRpcRequest(3, "tcp.Close", FrameFlag.CODEC_GOB, Buffer.from([1, 2, 3])));
      const gob = await raw.next();
      expect(gob.flags).toBe(FrameFlag.CODEC_GOB | FrameFlag.ERROR);
      expect(gob.options).toEqual([3, 9]);
      expect(gob.payload.toString()).toBe("tcp.Closerr-tcp's RPC speaks the json codec; tcp.Close was called with gob");
      raw.socket.write(encodeRpcRequest(4, "tcp.Close", FrameFlag.CODEC_JSON, Buffer.from("{not json")));
      expect((await raw.next()).payload.toString()).toMatch(/^tcp\.Closethe argument of tcp\.Close is not JSON: /);
      // Still served on the same connection.
      raw.socket.write(encodeRpcRequest(5, "informer.List", FrameFlag.CODEC_JSON, Buffer.from("true")));
      expect((await raw.next()).payload.toString()).toBe('informer.List["tcp"]');
    } finally {
      raw.socket.destroy();
    }
  });

  it("drops only the connection that sends a broken frame; other callers and clients carry on", async () => {
    const broken = await rawConnection();
    const frame = encodeRpcRequest(1, "tcp.Close", FrameFlag.CODEC_JSON, Buffer.from('"x"'));
    frame[7] = frame[7]! ^ 0xff; // corrupt the header CRC
    broken.socket.write(frame);
    await within(broken.closed, { what: "the server closing the broken RPC connection" });

    const noOptions = await rawConnection();
    noOptions.socket.write(encodeFrame(FrameFlag.CODEC_JSON, [], Buffer.from("tcp.Close")));
    await within(noOptions.closed, { what: "the server closing a connection that sent a frame without RPC options" });

    expect(await rpc.call("informer.List", true)).toEqual(["tcp"]);
    const client = await openClient(rr.port("main"));
    client.socket.write("still here\r\n");
    await client.receive("still here\r\n");
    client.socket.end();
  });
});

describe("RPC callers that misbehave", () => {
  it("closes a connection whose frame is too large or whose method name is too long", async () => {
    const big = await rawConnection();
    const over = LIMITS.rpcPayload.value + 1024;
    big.socket.write(encodeRpcRequest(1, "tcp.Close", FrameFlag.CODEC_JSON, Buffer.alloc(over, 0x20)));
    await within(big.closed, { what: `the server closing a connection that sent a ${over}-byte frame` });
    const longName = await rawConnection();
    longName.socket.write(encodeRpcRequest(1, "tcp." + "x".repeat(300), FrameFlag.CODEC_JSON, Buffer.from('""')));
    await within(longName.closed, { what: "the server closing a connection that sent a 304-byte method name" });
    expect(await rpc.call("informer.List", true)).toEqual(["tcp"]);
  });

  it("stops reading a caller that does not read its replies, instead of queueing for it", async () => {
    const flood = await rawConnection();
    flood.socket.pause(); // never read a reply
    const request = encodeRpcRequest(1, "informer.List", FrameFlag.CODEC_JSON, Buffer.from("true"));
    const burst = Buffer.concat(Array.from({ length: 4096 }, () => request));
    // Keep writing until the socket stays full for 300 ms (scaled): the kernel buffers are full
    // because the server stopped reading. A server that read on would take all 64 MiB (and
    // queue replies).
    const limit = 64 * 1024 * 1024;
    let written = 0;
    while (written < limit) {
      written += burst.length;
      if (!flood.socket.write(burst) && !(await drains(flood.socket, 300))) break;
    }
    expect(written).toBeLessThan(limit);
    // Everyone else is served meanwhile.
    expect(await rpc.call("informer.List", true)).toEqual(["tcp"]);
    const client = await openClient(rr.port("main"));
    client.socket.write("ping\r\n");
    await client.receive("ping\r\n");
    client.socket.end();
    flood.socket.destroy();
  });
});

describe("RpcClient", () => {
  it("does not keep its process alive while idle (a worker asked to stop must exit)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-tcp-rpc-"));
    const script = join(dir, "idle-client.mts");
    writeFileSync(
      script,
      [
        `import { RpcClient } from ${JSON.stringify(join(ROOT, "src/worker/index.ts"))};`,
        `const rpc = await RpcClient.connect(process.argv[2]);`,
        `console.log(JSON.stringify(await rpc.call("informer.List", true)));`,
        `// no rpc.close(): the process must still end`,
      ].join("\n"),
    );
    try {
      const child = spawn(process.execPath, ["--import", TSX_LOADER, script, rr.service.rpc!.address], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      try {
        expect(await within(exit, { timeout: 15_000, what: "the idle client's process exiting by itself" })).toBe(0);
      } finally {
        child.kill("SIGKILL");
      }
      expect(out.trim()).toBe('["tcp"]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses pipes, which are the worker's own relay", async () => {
    await expect(RpcClient.connect("pipes")).rejects.toThrow(/RPC needs a tcp or unix address/);
  });
});

describe("rpc.listen that cannot be used", () => {
  it("stops startup with an error naming rpc.listen (before any worker starts)", async () => {
    const taken = await rawConnection();
    try {
      const address = rr.service.rpc!.address;
      const err = await startService(CONFIG.replace("tcp://127.0.0.1:0", address)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "LISTEN_FAILED", key: "rpc.listen" });
      expect((err as Error).message).toMatch(new RegExp(`^rpc\\.listen: cannot listen on ${address}: EADDRINUSE`));
      const bad = await startService(CONFIG.replace("tcp://127.0.0.1:0", "pipes")).catch((e: unknown) => e);
      expect((bad as Error).message).toMatch(/^rpc\.listen: cannot listen on pipes: pipes are not a socket/);
    } finally {
      taken.socket.destroy();
    }
  });
});

/**
 * The connection budget and idle limit (issue 15): a real RpcServer on loopback with two methods,
 * so hundreds of connections cost no workers. Idle connections must never lock callers out.
 */
describe("RPC connection budget", () => {
  interface Standalone {
    server: RpcServer;
    warnings: string[];
    /** Resolves the calls to "test.Hold" waiting so far. */
    release(): void;
    /** Calls to "test.Hold" running now. */
    holding(): number;
  }
  const started: RpcServer[] = [];
  const opened: Socket[] = [];
  afterAll(async () => {
    for (const socket of opened) socket.destroy();
    await Promise.all(started.map((s) => s.close()));
  });

  async function standalone(options?: { connections?: number; idleTimeoutMs?: number }): Promise<Standalone> {
    const warnings: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
        done();
      },
    });
    // An extra argument before the fix: ignored there, so the tests below fail as the issue says.
    const listen = RpcServer.listen as (
      listen: string,
      logger?: unknown,
      options?: { connections?: number; idleTimeoutMs?: number },
    ) => Promise<RpcServer>;
    const server = await listen("tcp://127.0.0.1:0", pino({ level: "info" }, sink), options);
    started.push(server);
    let waiting: Array<() => void> = [];
    const methods = new Map<string, RpcMethod>([
      ["resetter.List", () => ["tcp"]],
      ["test.Hold", () => new Promise<boolean>((resolve) => waiting.push(() => resolve(true)))],
    ]);
    server.serve(methods);
    return {
      server,
      warnings,
      release: () => {
        const now = waiting;
        waiting = [];
        for (const resolve of now) resolve();
      },
      holding: () => waiting.length,
    };
  }

  /** A connection that only watches for its close; it sends what the test writes. */
  async function idleConnection(address: string): Promise<{ socket: Socket; isClosed(): boolean }> {
    const parsed = parseRelayAddress(address);
    if (parsed.kind !== "tcp") throw new Error("expected a tcp RPC address");
    const socket = connect({ host: parsed.host, port: parsed.port });
    opened.push(socket);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    let closed = false;
    socket.on("error", () => undefined);
    socket.on("data", () => undefined);
    socket.once("close", () => (closed = true));
    return { socket, isClosed: () => closed };
  }

  it("serves a real call with 300 idle connections open, closing the oldest idle ones to make room", async () => {
    expect(LIMITS.rpcConnections.value).toBe(256);
    const s = await standalone();
    const idle: Array<{ socket: Socket; isClosed(): boolean }> = [];
    // One at a time, so the server accepts them in this order.
    for (let i = 0; i < 300; i++) idle.push(await idleConnection(s.server.address));
    const rpc = await RpcClient.connect(s.server.address);
    try {
      expect(await rpc.call("resetter.List", true)).toEqual(["tcp"]);
      // 301 connections for 256 places: the 45 opened first made room.
      await eventually(() => idle.slice(0, 45).every((c) => c.isClosed()), {
        what: "the 45 oldest idle RPC connections closed",
        detail: () => `closed: ${idle.filter((c) => c.isClosed()).length}`,
      });
      expect(idle.slice(45).filter((c) => c.isClosed())).toHaveLength(0);
    } finally {
      rpc.close();
      for (const c of idle) c.socket.destroy();
    }
  });

  it("never closes a connection in the middle of a call; refuses the new one, with a log line, only when all are", async () => {
    const s = await standalone({ connections: 3 });
    const busy = await Promise.all([0, 1, 2].map(() => rawTo(s.server.address)));
    busy.forEach((c, i) => c.socket.write(encodeRpcRequest(i, "test.Hold", FrameFlag.CODEC_JSON, Buffer.from("null"))));
    await eventually(() => s.holding() === 3, { what: "three calls running" });
    const refused = await idleConnection(s.server.address);
    await eventually(() => refused.isClosed(), { what: "the fourth connection refused" });
    expect(
      s.warnings.some((w) => /refusing the RPC connection .*: 3 are open, every one in the middle of a call/.test(w)),
    ).toBe(true);
    s.release();
    for (const [i, c] of busy.entries()) {
      const reply = await c.next();
      expect([reply.options[0], reply.payload.toString()]).toEqual([i, "test.Holdtrue"]);
    }
    // Now idle, the oldest of them makes room for a new caller.
    const rpc = await RpcClient.connect(s.server.address);
    try {
      expect(await rpc.call("resetter.List", true)).toEqual(["tcp"]);
      await within(busy[0]!.closed, { what: "the oldest idle connection closed to make room" });
    } finally {
      rpc.close();
      for (const c of busy) c.socket.destroy();
    }
  });

  it("closes a connection idle for the idle limit, but not one whose call runs longer than that", async () => {
    const s = await standalone({ idleTimeoutMs: 200 });
    const idle = await idleConnection(s.server.address);
    const calling = await rawTo(s.server.address);
    calling.socket.write(encodeRpcRequest(1, "test.Hold", FrameFlag.CODEC_JSON, Buffer.from("null")));
    await eventually(() => s.holding() === 1, { what: "the call running" });
    await eventually(() => idle.isClosed(), { what: "the idle connection closed after 200 ms" });
    // Shows that something does not happen: the call has run for more than the idle limit.
    await quiet(400);
    s.release();
    expect((await calling.next()).payload.toString()).toBe("test.Holdtrue");
    // Idle again from its reply on, so it goes too.
    await within(calling.closed, { what: "the connection closed 200 ms after its reply" });
  });

  async function rawTo(address: string): Promise<RawConnection> {
    return rawConnectionTo(address);
  }
});
