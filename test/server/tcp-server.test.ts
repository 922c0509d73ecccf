import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { Writable } from "node:stream";
import pino from "pino";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContextCodec, Framing, Routing, TcpOptions, TcpServerOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { TcpResponse } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { CODEC_PROTO_FLAG } from "../../src/protocol/index.js";
import { TcpServer } from "../../src/server/tcp-server.js";
import { eventually, quiet, within } from "../fixtures/eventually.js";
import { openClient, portOf, RecordingPool, type Answer, type RecordedEvent } from "./harness.js";

function tcpOptions(servers: Record<string, Partial<TcpServerOptions>>, extra: Partial<TcpOptions> = {}): TcpOptions {
  return TcpOptions.fromPartial({
    read_buf_size: 1,
    ...extra,
    servers: Object.fromEntries(
      Object.entries(servers).map(([name, s]) => [name, TcpServerOptions.fromPartial({ addr: "127.0.0.1:0", ...s })]),
    ),
  });
}

/**
 * One server for most tests. The script answers by the DATA body:
 * `close` -> CLOSE, `wclose` -> WRITECLOSE "bye", `weird` -> verb "FOO", `fail` -> pool error,
 * `slow:<ms>` -> WRITE after a delay, anything else -> WRITE the same bytes.
 */
function script(e: RecordedEvent): Answer | Promise<Answer> {
  if (e.event !== "DATA") return { verb: TcpResponse.CONTINUE };
  const body = e.body.replace(/\r\n$/, "");
  if (body === "close") return { verb: TcpResponse.CLOSE, body: "not written" };
  if (body === "wclose") return { verb: TcpResponse.WRITECLOSE, body: "bye\r\n" };
  if (body === "weird") return { verb: "FOO", body: "not written" };
  if (body === "fail") return Object.assign(new Error("worker sent an ERROR frame"), { code: "WORKER_ERROR", pid: 42 });
  const slow = /^slow:(\d+)$/.exec(body);
  if (slow)
    return new Promise((resolve) =>
      setTimeout(() => resolve({ verb: TcpResponse.WRITE, body: e.body }), Number(slow[1])),
    );
  return { verb: TcpResponse.WRITE, body: e.body };
}

describe("TcpServer with an in-test pool", () => {
  const pool = new RecordingPool(script);
  let server: TcpServer;
  let port: number;
  let lengthPort: number;

  beforeAll(async () => {
    server = await TcpServer.listen({
      pool,
      tcp: tcpOptions({
        main: { delimiter: "\r\n", max_message_size: 64, idle_timeout: undefined },
        len: { framing: Framing.LENGTH, length_bytes: 2, max_message_size: 64 },
      }),
    });
    port = portOf(server.addresses().main!);
    lengthPort = portOf(server.addresses().len!);
  });
  afterAll(async () => {
    await server.shutdown(2000);
  });

  async function session(send: (c: Awaited<ReturnType<typeof openClient>>) => void | Promise<void>, onPort = port) {
    const connectedBefore = pool.events.filter((e) => e.event === "CONNECTED").length;
    const client = await openClient(onPort);
    const uuid = await pool.connectionAt(connectedBefore);
    await send(client);
    return { client, uuid };
  }

  it("sends CONNECTED with RoadRunner's context, then one DATA per delimiter, then one CLOSE at EOF", async () => {
    const { client, uuid } = await session((c) => void c.socket.end("a\r\nb\r\n"));
    const localPort = client.socket.localPort;
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:a\r\n", "DATA:b\r\n", "CLOSE"]);
    await within(client.ended, { what: "the server's FIN" });
    expect(client.received()).toBe("a\r\nb\r\n");
    const connected = pool.events.find((e) => e.uuid === uuid)!;
    expect(connected.server).toBe("main");
    expect(connected.remote_addr).toBe(`127.0.0.1:${localPort}`);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(connected.context.toString()).toBe(
      `{"remote_addr":"127.0.0.1:${localPort}","server":"main","uuid":"${uuid}","event":"CONNECTED"}`,
    );
  });

  it("encodes a connection's contexts once: every DATA event carries the same context buffer", async () => {
    const { client, uuid } = await session((c) => void c.socket.end("1\r\n2\r\n3\r\n"));
    await pool.closed(uuid);
    const data = pool.events.filter((e) => e.uuid === uuid && e.event === "DATA");
    expect(data).toHaveLength(3);
    expect(data[1]!.context).toBe(data[0]!.context);
    expect(data[2]!.context).toBe(data[0]!.context);
    client.socket.destroy();
  });

  /** Resolves once the server holds `bytes` more of unfinished messages than `base`: it has read them. */
  const holds = (base: number, bytes: number) =>
    eventually(() => server.bufferedBytes() === base + bytes, {
      what: `the server holding ${bytes} bytes of the message`,
      detail: () => `it holds ${server.bufferedBytes() - base}`,
    });

  it("gives one DATA for a message written one byte at a time", async () => {
    const { client, uuid } = await session(async (c) => {
      const base = server.bufferedBytes();
      const message = "hello\r\n";
      for (let i = 0; i < message.length; i++) {
        c.socket.write(message[i]!);
        // Each byte is read on its own before the next is sent.
        if (i < message.length - 1) await holds(base, i + 1);
      }
      await c.receive("hello\r\n");
      c.socket.end();
    });
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:hello\r\n", "CLOSE"]);
    await within(client.ended, { what: "FIN" });
  });

  it("delivers bytes buffered without a delimiter at EOF as a last DATA, then CLOSE", async () => {
    const { client, uuid } = await session((c) => void c.socket.end("x\r\npartial"));
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:x\r\n", "DATA:partial", "CLOSE"]);
    // The reply to the last DATA is still written to the half-closed socket, then FIN.
    await within(client.ended, { what: "FIN" });
    expect(client.received()).toBe("x\r\npartial");
  });

  it.each([
    ["CLOSE verb", "close\r\n", ""],
    ["WRITECLOSE verb", "wclose\r\n", "bye\r\n"],
    ["unknown verb", "weird\r\n", ""],
    ["worker error", "fail\r\n", ""],
  ])("closes with one CLOSE after a %s, and the client sees FIN", async (_cause, message, reply) => {
    const { client, uuid } = await session((c) => void c.socket.write(`${message}ignored\r\n`));
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", `DATA:${message}`, "CLOSE"]);
    await within(client.ended, { what: "FIN" });
    expect(client.received()).toBe(reply);
    // Lingering close: the socket is released as soon as the client closes its side too.
    client.socket.end();
    await within(client.closed, { timeout: 2000, what: "the socket released" });
  });

  it("WRITECLOSE with a flood of unread client bytes still delivers its body and a FIN, not a reset", async () => {
    const { client, uuid } = await session((c) => {
      c.socket.write("wclose\r\n");
      c.socket.write("u".repeat(2 << 20)); // far more than the server reads before it closes
    });
    let reset = false;
    client.socket.on("error", () => (reset = true));
    await within(client.ended, { what: "FIN" });
    expect(client.received()).toBe("bye\r\n");
    expect(reset).toBe(false);
    await pool.closed(uuid);
    client.socket.end();
    await within(client.closed, { timeout: 2000, what: "the socket released" });
  });

  it("closes an oversize message's connection with CLOSE", async () => {
    const { client, uuid } = await session((c) => void c.socket.write("ok\r\n" + "x".repeat(100)));
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:ok\r\n", "CLOSE"]);
    await within(client.ended, { what: "FIN" });
  });

  it("sends one CLOSE when the client resets", async () => {
    const { uuid } = await session(async (c) => {
      c.socket.write("r\r\n");
      await c.receive("r\r\n");
      c.socket.resetAndDestroy();
    });
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:r\r\n", "CLOSE"]);
  });

  it("closeConnection(uuid) closes with CLOSE; an unknown uuid gives false", async () => {
    const { client, uuid } = await session((c) => void c.socket.write("s\r\n"));
    await client.receive("s\r\n");
    expect(server.closeConnection(uuid)).toBe(true);
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:s\r\n", "CLOSE"]);
    await within(client.ended, { what: "FIN" });
    expect(server.closeConnection(uuid)).toBe(false);
    expect(server.closeConnection("00000000-0000-4000-8000-000000000000")).toBe(false);
  });

  it("closeConnection while the worker is busy: the CLOSE comes after the reply, whose WRITE is dropped", async () => {
    const { client, uuid } = await session((c) => void c.socket.write("slow:150\r\n"));
    await pool.until(() => pool.log(uuid).length === 2, "the slow DATA");
    server.closeConnection(uuid);
    await within(client.ended, { what: "FIN right away" });
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:slow:150\r\n", "CLOSE"]);
    expect(client.received()).toBe("");
  });

  it("never gives a worker a second event of a connection before the first is answered", async () => {
    const { client, uuid } = await session((c) => void c.socket.write("slow:30\r\nslow:10\r\nslow:20\r\nz\r\n"));
    await client.receive("z\r\n");
    client.socket.end();
    expect(await pool.closed(uuid)).toEqual([
      "CONNECTED",
      "DATA:slow:30\r\n",
      "DATA:slow:10\r\n",
      "DATA:slow:20\r\n",
      "DATA:z\r\n",
      "CLOSE",
    ]);
    expect(pool.maxInFlightPerConnection).toBe(1);
    expect(client.received()).toBe("slow:30\r\nslow:10\r\nslow:20\r\nz\r\n");
  });

  it("frames length-prefixed messages split and merged across writes", async () => {
    const frame = (body: string) => Buffer.concat([Buffer.from([0, body.length]), Buffer.from(body)]);
    const bytes = Buffer.concat([frame("one"), frame("two"), frame("three")]);
    const { client, uuid } = await session(async (c) => {
      const base = server.bufferedBytes();
      c.socket.write(bytes.subarray(0, 1));
      await holds(base, 1); // half a length prefix, read on its own
      c.socket.write(bytes.subarray(1, 9));
      await holds(base, 4); // "one" handed out; 4 bytes of "two" held
      c.socket.end(bytes.subarray(9));
    }, lengthPort);
    expect(await pool.closed(uuid)).toEqual([
      "CONNECTED",
      "DATA:\u0000\u0003one",
      "DATA:\u0000\u0003two",
      "DATA:\u0000\u0005three",
      "CLOSE",
    ]);
    await within(client.ended, { what: "FIN" });
    expect(pool.events.find((e) => e.uuid === uuid)!.server).toBe("len");
  });

  it("counts connections per server", () => {
    const counters = server.counters();
    expect(counters.main!.accepted).toBeGreaterThan(5);
    expect(counters.main!.closed.VERB_CLOSE).toBeGreaterThanOrEqual(1);
    expect(Object.keys(server.openConnections())).toEqual(["main", "len"]);
  });
});

describe("TcpServer limits, routing, codecs and shutdown", () => {
  it("refuses connections over max_connections at once, without events, and counts them", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const pool = new RecordingPool();
    const server = await TcpServer.listen({
      pool,
      logger: pino({ level: "warn" }, sink),
      tcp: tcpOptions({ main: { max_connections: 1 } }),
    });
    try {
      const port = portOf(server.addresses().main!);
      const first = await openClient(port);
      const uuid = await pool.connectionAt(0);
      const second = await openClient(port);
      await within(second.ended, { what: "the refused connection to close" });
      expect(server.counters().main).toMatchObject({ accepted: 1, rejected: 1, open: 1 });
      // The warning says who was refused.
      expect(lines.find((l) => String(l.msg).startsWith("connection refused"))).toMatchObject({
        remote_addr: `127.0.0.1:${second.socket.localPort}`,
      });
      first.socket.end();
      await pool.closed(uuid);
      const third = await openClient(port);
      await pool.connectionAt(1);
      third.socket.end("t\r\n");
      await third.receive("t\r\n");
      expect(pool.events.filter((e) => e.event === "CONNECTED")).toHaveLength(2);
    } finally {
      await server.shutdown(1000);
    }
  });

  it("closes an idle connection with CLOSE after idle_timeout; busy time with a worker does not count", async () => {
    const pool = new RecordingPool((e) =>
      e.body === "slow\r\n"
        ? new Promise((r) => setTimeout(() => r({ verb: TcpResponse.WRITE, body: "done\r\n" }), 250))
        : { verb: TcpResponse.CONTINUE },
    );
    const server = await TcpServer.listen({
      pool,
      tcp: tcpOptions({ main: { idle_timeout: { seconds: 0, nanos: 150e6 } } }),
    });
    try {
      const client = await openClient(portOf(server.addresses().main!));
      const uuid = await pool.connectionAt(0);
      const start = Date.now();
      client.socket.write("slow\r\n");
      await client.receive("done\r\n");
      expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:slow\r\n", "CLOSE"]);
      await within(client.ended, { what: "FIN" });
      expect(Date.now() - start).toBeGreaterThanOrEqual(250 + 150 - 20);
      expect(server.counters().main!.closed.IDLE_TIMEOUT).toBe(1);
    } finally {
      await server.shutdown(1000);
    }
  });

  it("sticky routing passes the previous reply's pid; any routing does not", async () => {
    let pid = 100;
    const pool = new RecordingPool(() => ({ verb: TcpResponse.CONTINUE, pid: ++pid }));
    const server = await TcpServer.listen({ pool, tcp: tcpOptions({ sticky: { routing: Routing.STICKY }, any: {} }) });
    try {
      for (const name of ["sticky", "any"]) {
        const client = await openClient(portOf(server.addresses()[name]!));
        const uuid = await pool.connectionAt(name === "sticky" ? 0 : 1);
        client.socket.end("a\r\nb\r\n");
        await pool.closed(uuid);
      }
      const prefer = (server: string) => pool.events.filter((e) => e.server === server).map((e) => e.preferPid);
      expect(prefer("sticky")).toEqual([undefined, 101, 102, 103]);
      expect(prefer("any")).toEqual([undefined, undefined, undefined, undefined]);
    } finally {
      await server.shutdown(1000);
    }
  });

  it("encodes contexts as protobuf with CODEC_PROTO when context_codec is proto", async () => {
    const pool = new RecordingPool();
    const server = await TcpServer.listen({ pool, tcp: tcpOptions({ p: {} }, { context_codec: ContextCodec.PROTO }) });
    try {
      const client = await openClient(portOf(server.addresses().p!));
      const uuid = await pool.connectionAt(0);
      client.socket.end("q\r\n");
      expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:q\r\n", "CLOSE"]);
      expect(pool.events.every((e) => e.flags === CODEC_PROTO_FLAG)).toBe(true);
    } finally {
      await server.shutdown(1000);
    }
  });

  it("shutdown lets a busy event finish (its WRITE is written), closes every connection with CLOSE and stops accepting", async () => {
    const pool = new RecordingPool((e) =>
      e.body === "slow\r\n"
        ? new Promise((r) => setTimeout(() => r({ verb: TcpResponse.WRITE, body: "late\r\n" }), 200))
        : { verb: TcpResponse.CONTINUE },
    );
    const server = await TcpServer.listen({ pool, tcp: tcpOptions({ main: {} }) });
    const port = portOf(server.addresses().main!);
    const idle = await openClient(port);
    const idleUuid = await pool.connectionAt(0);
    const busy = await openClient(port);
    const busyUuid = await pool.connectionAt(1);
    busy.socket.write("slow\r\n");
    await pool.until(() => pool.log(busyUuid).length === 2, "the slow event");
    const drained = await server.shutdown(5000);
    expect(drained).toBe(true);
    expect(pool.log(idleUuid)).toEqual(["CONNECTED", "CLOSE"]);
    expect(pool.log(busyUuid)).toEqual(["CONNECTED", "DATA:slow\r\n", "CLOSE"]);
    await within(busy.ended, { what: "FIN to the busy client" });
    await within(idle.ended, { what: "FIN to the idle client" });
    expect(busy.received()).toBe("late\r\n");
    await expect(openClient(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("shutdown past its timeout destroys the sockets still busy and reports it", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const pool = new RecordingPool(async (e) => {
      if (e.body === "hang\r\n") await held;
      return { verb: TcpResponse.CONTINUE };
    });
    const server = await TcpServer.listen({ pool, tcp: tcpOptions({ main: {} }) });
    const client = await openClient(portOf(server.addresses().main!));
    const uuid = await pool.connectionAt(0);
    client.socket.write("hang\r\n");
    await pool.until(() => pool.log(uuid).length === 2, "the hanging event");
    expect(await server.shutdown(100)).toBe(false);
    await within(client.ended, { what: "the socket destroyed" });
    release();
    expect(await pool.closed(uuid)).toEqual(["CONNECTED", "DATA:hang\r\n", "CLOSE"]);
  });

  it("reads no more from a client that does not read its replies (write buffer above its high-water mark)", async () => {
    const reply = "r".repeat(1 << 20);
    const pool = new RecordingPool((e) =>
      e.event === "DATA" ? { verb: TcpResponse.WRITE, body: reply } : { verb: TcpResponse.CONTINUE },
    );
    const server = await TcpServer.listen({ pool, tcp: tcpOptions({ main: {} }) });
    try {
      const client = await openClient(portOf(server.addresses().main!));
      const uuid = await pool.connectionAt(0);
      client.socket.pause(); // the client reads nothing
      const messages = 64;
      client.socket.write("m\r\n".repeat(messages));
      const dataEvents = () => pool.events.filter((e) => e.uuid === uuid && e.event === "DATA").length;
      // Wait until the server stops handing out events (the kernel buffers are full): a quiet
      // period without a new DATA event.
      let seen = -1;
      while (seen !== dataEvents()) {
        seen = dataEvents();
        await quiet(200);
      }
      expect(seen).toBeLessThan(messages);
      // Once the client reads, every message is served.
      let received = 0;
      client.socket.on("data", (chunk: Buffer) => (received += chunk.length));
      client.socket.resume();
      await pool.until(() => dataEvents() === messages, "every DATA event", 20_000);
      await eventually(() => received >= messages * reply.length, {
        timeout: 20_000,
        what: `${messages * reply.length} bytes of replies`,
        detail: () => `received ${received}`,
      });
      expect(received).toBe(messages * reply.length);
      client.socket.end();
      await pool.closed(uuid);
    } finally {
      await server.shutdown(1000);
    }
  });

  it("listens on IPv6 and unix sockets; remote_addr is [ip]:port, empty for unix peers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-tcp-unix-"));
    const pool = new RecordingPool();
    const server = await TcpServer.listen({
      pool,
      baseDir: dir,
      tcp: tcpOptions({ v6: { addr: "[::1]:0" }, local: { addr: "unix://rr.sock" } }),
    });
    try {
      const v6 = server.addresses().v6!;
      expect(v6).toMatch(/^\[::1\]:\d+$/);
      expect(server.addresses().local).toBe(`unix://${join(dir, "rr.sock")}`);
      const a = await openClient(portOf(v6), "::1");
      const aUuid = await pool.connectionAt(0);
      a.socket.end("six\r\n");
      expect(await pool.closed(aUuid)).toEqual(["CONNECTED", "DATA:six\r\n", "CLOSE"]);
      expect(pool.events.find((e) => e.uuid === aUuid)!.remote_addr).toMatch(/^\[::1\]:\d+$/);
      const b = createConnection({ path: join(dir, "rr.sock"), allowHalfOpen: true });
      const bUuid = await pool.connectionAt(1);
      b.end("unix\r\n");
      expect(await pool.closed(bUuid)).toEqual(["CONNECTED", "DATA:unix\r\n", "CLOSE"]);
      expect(pool.events.find((e) => e.uuid === bUuid)!.remote_addr).toBe("");
      expect(pool.events.find((e) => e.uuid === bUuid)!.server).toBe("local");
    } finally {
      await server.shutdown(1000);
      expect(existsSync(join(dir, "rr.sock"))).toBe(false);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("logs a warning naming an unknown verb, and which connection was oversize and why", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: "debug" }, sink);
    const pool = new RecordingPool(script);
    const server = await TcpServer.listen({ pool, logger, tcp: tcpOptions({ main: { max_message_size: 16 } }) });
    try {
      const port = portOf(server.addresses().main!);
      const a = await openClient(port);
      const aUuid = await pool.connectionAt(0);
      a.socket.write("weird\r\n");
      await pool.closed(aUuid);
      const b = await openClient(port);
      const bUuid = await pool.connectionAt(1);
      b.socket.write("z".repeat(20));
      await pool.closed(bUuid);
      await eventually(() => lines.filter((l) => l.msg === "connection closed").length === 2, {
        what: "both close log lines",
      });
      const warnings = lines.filter((l) => l.level === 40);
      expect(warnings).toEqual([
        expect.objectContaining({
          uuid: aUuid,
          server: "main",
          verb: "FOO",
          msg: expect.stringContaining('unknown verb "FOO"'),
        }),
        expect.objectContaining({
          uuid: bUuid,
          server: "main",
          size: 20,
          limit: 16,
          msg: expect.stringContaining("exceeds max_message_size 16"),
        }),
      ]);
      expect(lines.filter((l) => l.msg === "connection opened").map((l) => l.uuid)).toEqual([aUuid, bUuid]);
      expect(lines.filter((l) => l.msg === "connection closed").map((l) => [l.uuid, l.reason])).toEqual([
        [aUuid, "UNKNOWN_VERB"],
        [bUuid, "MESSAGE_TOO_LARGE"],
      ]);
    } finally {
      await server.shutdown(1000);
    }
  });

  it("a failed CONNECTED event still ends with one CLOSE; a failed CLOSE event still ends the connection", async () => {
    let failClose = false;
    const pool = new RecordingPool((e) => {
      if (e.event === "CONNECTED") return Object.assign(new Error("no free workers"), { code: "NO_FREE_WORKERS" });
      if (e.event === "CLOSE" && failClose) return Object.assign(new Error("pool closed"), { code: "POOL_CLOSED" });
      return { verb: TcpResponse.CONTINUE };
    });
    const server = await TcpServer.listen({ pool, tcp: tcpOptions({ main: {} }) });
    try {
      const port = portOf(server.addresses().main!);
      const a = await openClient(port);
      const aUuid = await pool.connectionAt(0);
      expect(await pool.closed(aUuid)).toEqual(["CONNECTED", "CLOSE"]);
      await within(a.ended, { what: "FIN" });
      failClose = true;
      const b = await openClient(port);
      const bUuid = await pool.connectionAt(1);
      await pool.closed(bUuid);
      await within(b.ended, { what: "FIN" });
      await eventually(() => server.counters().main!.open === 0, { what: "both connections done" });
      expect(server.counters().main!.closed).toEqual({ EXEC_FAILED: 2 });
    } finally {
      await server.shutdown(1000);
    }
  });

  it("a pool that throws synchronously fails the event the same way", async () => {
    const events: string[] = [];
    const pool = {
      exec(request: { body: Buffer }) {
        events.push(request.body.length ? "DATA" : "event");
        throw Object.assign(new Error("synchronous failure"), { code: "BAD_OPTIONS" });
      },
    };
    const server = await TcpServer.listen({ pool: pool as never, tcp: tcpOptions({ main: {} }) });
    try {
      const client = await openClient(portOf(server.addresses().main!));
      await within(client.ended, { what: "FIN" });
      await eventually(() => server.counters().main!.open === 0, { what: "the connection done" });
      expect(events).toEqual(["event", "event"]); // CONNECTED, then CLOSE
    } finally {
      await server.shutdown(1000);
    }
  });

  it("fails with ListenError naming the server when the address is taken", async () => {
    const pool = new RecordingPool();
    const first = await TcpServer.listen({ pool, tcp: tcpOptions({ a: {} }) });
    try {
      const taken = first.addresses().a!;
      await expect(TcpServer.listen({ pool, tcp: tcpOptions({ b: { addr: taken } }) })).rejects.toMatchObject({
        code: "LISTEN_FAILED",
        key: "tcp.servers.b",
        message: expect.stringContaining(`tcp.servers.b: cannot listen on ${taken}: EADDRINUSE`),
      });
    } finally {
      await first.shutdown(100);
    }
  });
});
