/**
 * docs/behaviour.md towards TCP clients, end to end: real sockets on 127.0.0.1, the real WorkerPool,
 * real worker processes that record every event they see. One service serves every test (worker
 * start-up costs tsx's start); each test uses its own connections and reads its own events, and
 * starts once the pool is whole and idle again (earlier tests kill workers on purpose).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, within } from "../fixtures/eventually.js";
import { openClient, type Client } from "../server/harness.js";
import { startService, type RunningService, settled } from "./harness.js";

const CONFIG = `
version: "3"
server:
  command: \${WORKER_CMD}
  env:
    RECORD_FILE: \${RECORD_FILE}
tcp:
  servers:
    main: { addr: "127.0.0.1:0", delimiter: "\\r\\n" }
    custom: { addr: "127.0.0.1:0", delimiter: "--end--" }
    raw: { addr: "127.0.0.1:0", framing: raw }
    length: { addr: "127.0.0.1:0", framing: length, length_bytes: 2 }
    sticky: { addr: "127.0.0.1:0", routing: sticky }
    small: { addr: "127.0.0.1:0", max_message_size: 64 }
    idle: { addr: "127.0.0.1:0", idle_timeout: 300ms }
    limited: { addr: "127.0.0.1:0", max_connections: 1 }
  pool:
    num_workers: 3
    allocate_timeout: 20s
    destroy_timeout: 5s
    supervisor:
      exec_ttl: 1500ms
control:
  addr: 127.0.0.1:0
`;

let rr: RunningService;

beforeAll(async () => {
  rr = await startService(CONFIG);
});
afterAll(async () => {
  await rr?.stop();
});

const NUM_WORKERS = 3;

/**
 * What an earlier test left behind is gone: its connections are closed, and the workers it
 * crashed or had killed are replaced (a tsx start each, seconds on a loaded machine).
 */
beforeEach(async () => {
  await settled(rr.service, NUM_WORKERS);
});

/** A client on a named server, and its connection's uuid (from the recorded CONNECTED). */
async function connectTo(server: string): Promise<{ client: Client; uuid: string }> {
  const client = await openClient(rr.port(server));
  const uuid = await rr.recording.uuidOf(client.socket.localPort);
  return { client, uuid };
}

/**
 * The connection's events once it is over: after its CLOSE event was answered the server holds
 * no more of it, so nothing can follow.
 */
async function finished(uuid: string): Promise<string[]> {
  await eventually(() => !rr.service.server.connectionIds().includes(uuid), {
    timeout: 10_000,
    what: `connection ${uuid} to be over`,
    detail: () => `events: ${JSON.stringify(rr.recording.log(uuid))}`,
  });
  return rr.recording.log(uuid);
}

/**
 * Writes `part`, then waits until the server holds `held` bytes of unfinished messages: it has
 * read the part on its own, before the next one is sent. (No other connection is open.)
 */
async function writeAndHold(client: Client, part: string | Buffer, held: number): Promise<void> {
  client.socket.write(part);
  await eventually(() => rr.service.server.bufferedBytes() === held, {
    what: `the server holding ${held} bytes`,
    detail: () => `it holds ${rr.service.server.bufferedBytes()}`,
  });
}

describe("framing client bytes into DATA events", () => {
  it("two messages in one write give two DATA events, delimiters kept", async () => {
    const { client, uuid } = await connectTo("main");
    client.socket.write("a\r\nb\r\n");
    await client.receive("a\r\nb\r\n");
    client.socket.end();
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:a\r\n", "DATA:b\r\n", "CLOSE"]);
  });

  it("a message written one byte at a time gives one DATA event", async () => {
    const { client, uuid } = await connectTo("main");
    const message = "hello world\r\n";
    for (let i = 0; i < message.length - 1; i++) await writeAndHold(client, message[i]!, i + 1);
    client.socket.write(message.slice(-1));
    await client.receive("hello world\r\n");
    client.socket.end();
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:hello world\r\n", "CLOSE"]);
  });

  it("a multi-byte delimiter split across writes still ends the message", async () => {
    const { client, uuid } = await connectTo("custom");
    // Held after each part: "abc--e", "abc--en", "abc--end-", then "def--" once "abc--end--" is out.
    for (const [part, held] of [
      ["abc--e", 6],
      ["n", 7],
      ["d-", 9],
      ["-def--", 5],
    ] as const)
      await writeAndHold(client, part, held);
    client.socket.write("end--");
    await client.receive("def--end--");
    client.socket.end();
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:abc--end--", "DATA:def--end--", "CLOSE"]);
  });

  it("raw framing: every read is one DATA event", async () => {
    const { client, uuid } = await connectTo("raw");
    for (const part of ["no delimiter", "\r\n", "x"]) {
      client.socket.write(part);
      await client.receive(part === "x" ? "no delimiter\r\nx" : part);
    }
    client.socket.end();
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:no delimiter", "DATA:\r\n", "DATA:x", "CLOSE"]);
  });

  it("length framing: messages split and merged across writes, prefix kept", async () => {
    const frame = (body: string) =>
      Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), Buffer.from(body, "latin1")]);
    const long = "L".repeat(300);
    const stream = Buffer.concat([frame("one"), frame(long), frame(""), frame("two")]);
    const { client, uuid } = await connectTo("length");
    // Cut inside the first prefix, inside the long body, and merge the last three frames. Held
    // after each cut: 1 byte; 95 once "one" (5 bytes) is out; 195.
    for (const [from, to, held] of [
      [0, 1, 1],
      [1, 100, 95],
      [100, 200, 195],
    ] as const)
      await writeAndHold(client, stream.subarray(from, to), held);
    client.socket.write(stream.subarray(200));
    await client.receive("two");
    client.socket.end();
    expect(await finished(uuid)).toEqual([
      "CONNECTED",
      "DATA:\x00\x03one",
      `DATA:\x01\x2c${long}`,
      "DATA:\x00\x00",
      "DATA:\x00\x03two",
      "CLOSE",
    ]);
  });

  it("at client EOF, bytes without a delimiter are a last DATA before CLOSE; the client sees FIN", async () => {
    const { client, uuid } = await connectTo("main");
    client.socket.end("first\r\nrest without delimiter");
    await within(client.ended, { what: "the server's FIN" });
    expect(client.received()).toBe("first\r\nrest without delimiter");
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:first\r\n", "DATA:rest without delimiter", "CLOSE"]);
  });
});

describe("exactly one CLOSE per connection, whatever closes it", () => {
  it("client EOF", async () => {
    const { client, uuid } = await connectTo("main");
    client.socket.end("bye now\r\n");
    await within(client.ended, { what: "FIN" });
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:bye now\r\n", "CLOSE"]);
  });

  it("client reset", async () => {
    const { client, uuid } = await connectTo("main");
    client.socket.write("r\r\n");
    await client.receive("r\r\n");
    client.socket.resetAndDestroy();
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:r\r\n", "CLOSE"]);
  });

  it.each([
    ["the CLOSE verb", "close\r\n", ""],
    ["the WRITECLOSE verb (its body written first)", "wclose\r\n", "bye\r\n"],
    ["an unknown verb", "weird\r\n", ""],
    ["a worker ERROR frame", "error\r\n", ""],
  ])("%s", async (_cause, message, reply) => {
    const { client, uuid } = await connectTo("main");
    client.socket.write(`${message}never read\r\n`);
    await within(client.ended, { what: "FIN" });
    expect(client.received()).toBe(reply);
    expect(await finished(uuid)).toEqual(["CONNECTED", `DATA:${message}`, "CLOSE"]);
  });

  it("server closeConnection(uuid) (RoadRunner's tcp.Close)", async () => {
    const { client, uuid } = await connectTo("main");
    client.socket.write("x\r\n");
    await client.receive("x\r\n");
    expect(rr.service.server.closeConnection(uuid)).toBe(true);
    await within(client.ended, { what: "FIN" });
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:x\r\n", "CLOSE"]);
  });

  it("close through the control API (POST /connections/<uuid>/close)", async () => {
    const { client, uuid } = await connectTo("main");
    const response = await fetch(`http://${rr.service.control!.address}/connections/${uuid}/close`, { method: "POST" });
    expect(response.status).toBe(200);
    await within(client.ended, { what: "FIN" });
    expect(await finished(uuid)).toEqual(["CONNECTED", "CLOSE"]);
    const again = await fetch(`http://${rr.service.control!.address}/connections/${uuid}/close`, { method: "POST" });
    expect(again.status).toBe(404);
  });

  it("idle timeout (idle_timeout: 300ms)", async () => {
    // Written at once, not after the CONNECTED record is seen: on a loaded machine that wait
    // alone could outlast the 300 ms.
    const client = await openClient(rr.port("idle"));
    client.socket.write("still here\r\n");
    const start = Date.now();
    const uuid = await rr.recording.uuidOf(client.socket.localPort);
    await client.receive("still here\r\n");
    await within(client.ended, { what: "FIN after the idle timeout" });
    expect(Date.now() - start).toBeGreaterThanOrEqual(280);
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:still here\r\n", "CLOSE"]);
  });

  it("an oversize message (max_message_size: 64)", async () => {
    const { client, uuid } = await connectTo("small");
    client.socket.write("fits\r\n" + "y".repeat(100));
    await within(client.ended, { what: "FIN" });
    expect(client.received()).toBe("fits\r\n");
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:fits\r\n", "CLOSE"]);
  });

  it("a worker crash: the CLOSE goes to another worker, and other connections do not notice", async () => {
    const bystander = await connectTo("main");
    const { client, uuid } = await connectTo("main");
    client.socket.write("crash\r\n");
    await within(client.ended, { what: "FIN" });
    const log = await finished(uuid);
    expect(log).toEqual(["CONNECTED", "DATA:crash\r\n", "CLOSE"]);
    const [data, close] = rr.recording.all().filter((r) => r.uuid === uuid && r.event !== "CONNECTED");
    expect(close!.pid).not.toBe(data!.pid);
    bystander.client.socket.write("unaffected\r\n");
    await bystander.client.receive("unaffected\r\n");
    bystander.client.socket.end();
    expect(await finished(bystander.uuid)).toEqual(["CONNECTED", "DATA:unaffected\r\n", "CLOSE"]);
  });

  it("an exec timeout (supervisor.exec_ttl: 1500ms): the hung worker is killed", async () => {
    const { client, uuid } = await connectTo("main");
    const start = Date.now();
    client.socket.write("hang\r\n");
    await within(client.ended, { timeout: 10_000, what: "FIN after exec_ttl" });
    expect(Date.now() - start).toBeGreaterThanOrEqual(1400);
    expect(await finished(uuid)).toEqual(["CONNECTED", "DATA:hang\r\n", "CLOSE"]);
  });
});

describe("workers and limits", () => {
  it("sticky routing keeps a connection on one idle worker; any routing spreads it", async () => {
    const pidsOf = async (server: string): Promise<Set<number>> => {
      const { client, uuid } = await connectTo(server);
      for (let i = 0; i < 8; i++) {
        const before = client.received().length;
        client.socket.write("pid\r\n");
        await eventually(() => client.received().length > before && client.received().endsWith("\r\n"), {
          what: "a pid reply",
          detail: () => `received ${JSON.stringify(client.received())}`,
        });
      }
      client.socket.end();
      await finished(uuid);
      expect(new Set(client.received().trim().split("\r\n").map(Number))).toEqual(
        new Set(
          rr.recording
            .all()
            .filter((r) => r.uuid === uuid && r.event === "DATA")
            .map((r) => r.pid),
        ),
      );
      return new Set(
        rr.recording
          .all()
          .filter((r) => r.uuid === uuid)
          .map((r) => r.pid),
      );
    };
    expect((await pidsOf("sticky")).size).toBe(1);
    // Without it, the pool hands each event to the longest-idle worker.
    expect((await pidsOf("main")).size).toBeGreaterThan(1);
  });

  it("two named servers with different delimiters share one pool; `server` tells them apart", async () => {
    const a = await connectTo("main");
    const b = await connectTo("custom");
    a.client.socket.end("same--end--text\r\n");
    b.client.socket.end("same--end--text\r\n");
    expect(await finished(a.uuid)).toEqual(["CONNECTED", "DATA:same--end--text\r\n", "CLOSE"]);
    expect(await finished(b.uuid)).toEqual(["CONNECTED", "DATA:same--end--", "DATA:text\r\n", "CLOSE"]);
    const servers = (uuid: string) =>
      new Set(
        rr.recording
          .all()
          .filter((r) => r.uuid === uuid)
          .map((r) => r.server),
      );
    expect(servers(a.uuid)).toEqual(new Set(["main"]));
    expect(servers(b.uuid)).toEqual(new Set(["custom"]));
  });

  it("over max_connections (1), a connection is closed at once, counted, and gets no events", async () => {
    const first = await connectTo("limited");
    const refused = await openClient(rr.port("limited"));
    await within(refused.ended, { what: "the refused connection closed" });
    expect(rr.recording.all().some((r) => r.remote_addr.endsWith(`:${refused.socket.localPort}`))).toBe(false);
    expect(rr.service.server.counters().limited).toMatchObject({ rejected: 1, accepted: 1 });
    first.client.socket.end();
    await finished(first.uuid);
    const next = await connectTo("limited");
    next.client.socket.end("ok\r\n");
    expect(await finished(next.uuid)).toEqual(["CONNECTED", "DATA:ok\r\n", "CLOSE"]);
  });
});
