/**
 * Pushing to connections (issue 17): tcp.Write, tcp.WriteClose, tcp.Broadcast and tcp.List on a
 * running rr-tcp with two named servers, real sockets, real worker processes
 * (test/fixtures/push-worker.ts), reached as a PHP app reaches them (goridge RPC frames, JSON
 * codec, built here byte by byte), through the SDK's RpcClient, the control API and the CLI.
 * A busy worker is one holding its event until the test creates a file: no sleep decides order.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { encodeFrame, FrameFlag, FrameReader, type Frame } from "../../src/goridge/index.js";
import { parseRelayAddress } from "../../src/net/index.js";
import { RpcCallError, RpcClient } from "../../src/worker/index.js";
import { eventually, scaled, within } from "../fixtures/eventually.js";
import { openClient, type Client } from "../server/harness.js";
import { runCliToEnd } from "./cli-harness.js";
import { pushWorkerConfig, settled, startService, type RunningService } from "./harness.js";

const dir = mkdtempSync(join(tmpdir(), "rr-tcp-push-"));

const CONFIG = pushWorkerConfig(
  dir,
  `  servers:
    main: { addr: "127.0.0.1:0" }
    other: { addr: "127.0.0.1:0" }
  pool: { num_workers: 2, destroy_timeout: 5s }
`,
);

let rr: RunningService;
let rpc: RpcClient;
const clients: Client[] = [];

beforeAll(async () => {
  rr = await startService(CONFIG);
  rpc = await RpcClient.connect(rr.service.rpc!.address);
});
afterAll(async () => {
  rpc?.close();
  await rr?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const client of clients.splice(0)) client.socket.destroy();
  await settled(rr.service, 2);
});

/**
 * A client of `server` and its connection's uuid, found with tcp.List by its port. Listed is not
 * idle: its CONNECTED event may still be with a worker, and a push to it then waits for that
 * reply (`written: false`). A test that needs it idle has it echo something first.
 */
async function client(server = "main"): Promise<{ client: Client; uuid: string }> {
  const opened = await openClient(rr.port(server));
  clients.push(opened);
  const port = `:${opened.socket.localPort}`;
  let uuid: string | undefined;
  await eventually(
    async () => {
      uuid = (await rpc.list(server)).connections.find((c) => c.remote_addr.endsWith(port))?.uuid;
      return uuid !== undefined;
    },
    { what: `tcp.List to list the client on port ${port}` },
  );
  return { client: opened, uuid: uuid! };
}

/** Waits until the worker holds the event `hold:NAME` (or `holdclose:NAME`). */
async function held(name: string): Promise<void> {
  await eventually(() => existsSync(join(dir, `${name}.held`)), { what: `a worker holding the event hold:${name}` });
}

const release = (name: string): void => writeFileSync(join(dir, name), "");
const b64 = (text: string): string => Buffer.from(text, "latin1").toString("base64");

/** An RPC connection that sends what spiral/goridge's RPC sends, and reads frames back. */
async function phpRpc(): Promise<{ call(seq: number, method: string, json: string): Promise<Frame>; close(): void }> {
  const address = parseRelayAddress(rr.service.rpc!.address);
  if (address.kind !== "tcp") throw new Error("expected a tcp RPC address");
  const socket: Socket = connect({ host: address.host, port: address.port });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const reader = new FrameReader();
  const waiting: Array<(frame: Frame) => void> = [];
  socket.on("data", (chunk: Buffer) =>
    reader.push(chunk, (frame) => waiting.shift()?.({ ...frame, payload: Buffer.from(frame.payload) })),
  );
  socket.on("error", () => undefined);
  return {
    // spiral/goridge RPC::call: options [seq, strlen(method)], flags the codec, payload method . json_encode(arg).
    call(seq, method, json) {
      const reply = new Promise<Frame>((resolve) => waiting.push(resolve));
      socket.write(encodeFrame(FrameFlag.CODEC_JSON, [seq, method.length], Buffer.from(method + json)));
      return within(reply, { what: `the reply to ${method}` });
    },
    close: () => socket.destroy(),
  };
}

/** A reply's result or error text, after the method name it repeats. */
function replyText(frame: Frame, method: string): string {
  expect(frame.options.slice(1)).toEqual([method.length]);
  expect(frame.payload.subarray(0, method.length).toString()).toBe(method);
  return frame.payload.subarray(method.length).toString();
}

const isError = (frame: Frame): boolean => (frame.flags & FrameFlag.ERROR) !== 0;

describe("tcp.Write", () => {
  it("reaches the right client while it is idle, and only that client", async () => {
    const a = await client();
    const b = await client();
    for (const { client: c } of [a, b]) {
      c.socket.write("hi\r\n");
      await c.receive("hi\r\n");
    }
    await rpc.write(a.uuid, "push A\r\n");
    await rpc.write(b.uuid, "push B\r\n");
    await a.client.receive("push A\r\n");
    await b.client.receive("push B\r\n");
    // Each got its own push and not the other's (B's arrived after A's was written).
    expect(a.client.received()).toBe("hi\r\npush A\r\n");
    expect(b.client.received()).toBe("hi\r\npush B\r\n");
  });

  it("while a worker holds the connection's event, follows that event's reply, in the order pushed", async () => {
    const { client: c, uuid } = await client();
    c.socket.write("hold:write-busy\r\n");
    await held("write-busy");
    for (const n of [1, 2, 3]) await rpc.write(uuid, `pushed ${n}\r\n`);
    // Taken (true), and held: nothing is written before the reply.
    expect(c.received()).toBe("");
    release("write-busy");
    await c.receive("pushed 3\r\n");
    expect(c.received()).toBe("reply write-busy\r\npushed 1\r\npushed 2\r\npushed 3\r\n");
    // The connection reads on: the next event is served as before.
    c.socket.write("again\r\n");
    await c.receive("again\r\n");
  });

  it("from the worker that holds the connection's own event (through RR_RPC): after its reply, no deadlock", async () => {
    const { client: c } = await client();
    c.socket.write("self:chat\r\n");
    await c.receive("pushed chat\r\n");
    expect(c.received()).toBe("reply chat\r\npushed chat\r\n");
  });

  it("refuses an unknown uuid, a closing connection and bad arguments, each error naming what is wrong", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    await expect(rpc.write(unknown, "x")).rejects.toThrow(`no open connection has uuid ${unknown}`);
    await expect(rpc.call("tcp.Write", { uid: unknown, data: "" })).rejects.toThrow(/unknown field "uid"/);
    await expect(rpc.call("tcp.Write", { uuid: unknown, data: "not base64!" })).rejects.toThrow(
      /"data" must be the bytes in standard base64/,
    );
    await expect(rpc.call("tcp.Write", { uuid: unknown, data: 42 })).rejects.toThrow(/"data" must be .* got a number/);
    await expect(rpc.call("tcp.Write", { data: b64("x") })).rejects.toThrow(/"uuid" is missing or empty/);
    await expect(rpc.call("tcp.Write", unknown)).rejects.toThrow(
      /tcp.Write takes rr.tcp.v1.WriteConnectionRequest as a JSON object/,
    );
    // A WriteClose waiting behind an event: the connection takes nothing more.
    const { client: c, uuid } = await client();
    c.socket.write("hold:closing\r\n");
    await held("closing");
    await rpc.writeClose(uuid, "last\r\n");
    const closingBefore = rr.service.server.counters().main!.pushes.closing;
    const refused = await rpc.write(uuid, "too late\r\n").catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RpcCallError);
    expect(rr.service.server.counters().main!.pushes.closing).toBe(closingBefore + 1);
    expect((refused as RpcCallError).serverMessage).toBe(
      `connection ${uuid} is closing: nothing more is written to it`,
    );
    release("closing");
    await within(c.ended, { what: "FIN after the WriteClose" });
    expect(c.received()).toBe("reply closing\r\nlast\r\n");
  });
});

describe("tcp.WriteClose", () => {
  it("writes the bytes, then closes the connection with its CLOSE event", async () => {
    const before = rr.service.server.counters().main!;
    const { client: c, uuid } = await client();
    c.socket.write("hi\r\n");
    await c.receive("hi\r\n");
    await rpc.writeClose(uuid, "bye now\r\n");
    await within(c.ended, { what: "FIN after tcp.WriteClose" });
    expect(c.received()).toBe("hi\r\nbye now\r\n");
    // Gone from the list once its CLOSE event was answered by a worker.
    await eventually(async () => !(await rpc.list("main")).connections.some((x) => x.uuid === uuid), {
      what: "the connection to leave tcp.List",
    });
    const after = rr.service.server.counters().main!;
    expect((after.closed.CLOSED_BY_SERVER ?? 0) - (before.closed.CLOSED_BY_SERVER ?? 0)).toBe(1);
    expect(after.events.close - before.events.close).toBe(1);
    expect(after.replies.continue - before.replies.continue).toBeGreaterThanOrEqual(2);
  });

  it("drops the pushes held behind an event whose reply closes the connection (WRITECLOSE)", async () => {
    const { client: c, uuid } = await client();
    c.socket.write("holdclose:drop\r\n");
    await held("drop");
    // Taken while the event is with the worker; its WRITECLOSE then closes, and the push has nowhere to go.
    await rpc.write(uuid, "never written\r\n");
    release("drop");
    await within(c.ended, { what: "FIN after WRITECLOSE" });
    expect(c.received()).toBe("bye drop\r\n");
  });
});

describe("tcp.Broadcast", () => {
  it("reaches every client of that server and none of another", async () => {
    const mains = await Promise.all([client("main"), client("main"), client("main")]);
    const other = await client("other");
    await rpc.broadcast("main", "news\r\n");
    await Promise.all(mains.map(({ client: c }) => c.receive("news\r\n")));
    await rpc.broadcast("other", "other news\r\n");
    await other.client.receive("other news\r\n");
    await rpc.broadcast("main", "end\r\n");
    await Promise.all(mains.map(({ client: c }) => c.receive("end\r\n")));
    // Had "news" gone to `other` it would have arrived before "other news"; had "other news" gone
    // to main, before "end".
    expect(other.client.received()).toBe("other news\r\n");
    for (const { client: c } of mains) expect(c.received()).toBe("news\r\nend\r\n");
    await expect(rpc.broadcast("chat", "x")).rejects.toThrow('no server is named "chat" (tcp.servers has main, other)');
    await expect(rpc.call("tcp.Broadcast", { server: "main", data: "***" })).rejects.toThrow(/"data" must be/);
  });
});

describe("tcp.List", () => {
  it("lists one server's connections with uuid, server, client address, age and bytes; all with {} ; an unknown server is an error", async () => {
    const m = await client("main");
    const o = await client("other");
    m.client.socket.write("abc\r\n");
    await m.client.receive("abc\r\n");
    const mainOnly = await rpc.list("main");
    expect(mainOnly.connections.map((c) => c.uuid)).toEqual([m.uuid]);
    const [info] = mainOnly.connections;
    expect(info).toMatchObject({
      server: "main",
      remote_addr: `127.0.0.1:${m.client.socket.localPort}`,
      bytes_received: 5,
      bytes_sent: 5,
    });
    expect(info!.age).toBeDefined();
    expect((await rpc.list()).connections.map((c) => c.uuid)).toEqual([m.uuid, o.uuid]);
    // A bare server name (`$rpc->call('tcp.List', 'other')`) and tcp.Connections: the same list.
    expect(((await rpc.call("tcp.List", "other")) as { connections: { uuid: string }[] }).connections).toEqual([
      expect.objectContaining({ uuid: o.uuid }),
    ]);
    const uuids = (list: unknown) => (list as { connections: { uuid: string }[] }).connections.map((x) => x.uuid);
    expect(uuids(await rpc.call("tcp.Connections", "tcp"))).toEqual(uuids(await rpc.call("tcp.List", null)));
    await expect(rpc.list("chat")).rejects.toThrow('no server is named "chat"');
    await expect(rpc.call("tcp.List", { srv: "main" })).rejects.toThrow(/unknown field "srv"/);
  });
});

describe("a PHP-shaped goridge RPC call (JSON codec)", () => {
  it("works for each method, and answers an unknown uuid or server with an error frame", async () => {
    const { client: c, uuid } = await client("main");
    const php = await phpRpc();
    try {
      // What Go's encoding/json (and PHP's json_encode) writes for the schema messages.
      const write = await php.call(11, "tcp.Write", `{"uuid":"${uuid}","data":"${b64("php push\r\n")}"}`);
      expect([write.flags, write.options[0], replyText(write, "tcp.Write")]).toEqual([
        FrameFlag.CODEC_JSON,
        11,
        "true",
      ]);
      await c.receive("php push\r\n");

      const broadcast = await php.call(12, "tcp.Broadcast", `{"server":"main","data":"${b64("php all\r\n")}"}`);
      expect([broadcast.flags, replyText(broadcast, "tcp.Broadcast")]).toEqual([FrameFlag.CODEC_JSON, "true"]);
      await c.receive("php all\r\n");

      const list = await php.call(13, "tcp.List", `{"server":"main"}`);
      const listed = JSON.parse(replyText(list, "tcp.List")) as { connections: { uuid: string; remoteAddr: string }[] };
      expect(listed.connections.map((x) => [x.uuid, x.remoteAddr])).toEqual([
        [uuid, `127.0.0.1:${c.socket.localPort}`],
      ]);
      // Go's encoding/json of an empty ListConnectionsRequest, and an empty argument: every server.
      const uuids = (frame: Frame) =>
        (JSON.parse(replyText(frame, "tcp.List")) as typeof listed).connections.map((x) => x.uuid);
      expect(uuids(await php.call(14, "tcp.List", "{}"))).toEqual([uuid]);
      expect(uuids(await php.call(15, "tcp.List", ""))).toEqual([uuid]);

      const unknownUuid = "11111111-1111-4111-8111-111111111111";
      const noUuid = await php.call(16, "tcp.Write", `{"uuid":"${unknownUuid}","data":"eA=="}`);
      expect(isError(noUuid)).toBe(true);
      expect(noUuid.options[0]).toBe(16);
      expect(replyText(noUuid, "tcp.Write")).toBe(`no open connection has uuid ${unknownUuid}`);
      const noServer = await php.call(17, "tcp.Broadcast", `{"server":"chat","data":"eA=="}`);
      expect(isError(noServer)).toBe(true);
      expect(replyText(noServer, "tcp.Broadcast")).toMatch(/^no server is named "chat"/);
      expect(isError(await php.call(18, "tcp.List", `{"server":"chat"}`))).toBe(true);

      // Last: WriteClose ends the connection.
      const writeClose = await php.call(19, "tcp.WriteClose", `{"uuid":"${uuid}","data":"${b64("php bye\r\n")}"}`);
      expect([writeClose.flags, replyText(writeClose, "tcp.WriteClose")]).toEqual([FrameFlag.CODEC_JSON, "true"]);
      await within(c.ended, { what: "FIN after tcp.WriteClose" });
      expect(c.received()).toBe("php push\r\nphp all\r\nphp bye\r\n");
      const gone = await php.call(20, "tcp.WriteClose", `{"uuid":"${unknownUuid}"}`);
      expect(isError(gone)).toBe(true);
    } finally {
      php.close();
    }
  });
});

describe("a client that never reads", () => {
  it("is pushed to until its unsent bytes reach the high-water mark, then refused: memory stays bounded", async () => {
    const { client: c, uuid } = await client("main");
    const before = rr.service.server.counters().main!;
    c.socket.pause();
    const chunk = Buffer.alloc(128 * 1024, "p");
    let accepted = 0;
    let refusal: RpcCallError | undefined;
    // The kernel's buffers on both ends take some MiB first; far fewer than this many pushes.
    for (let i = 0; i < 2_000 && refusal === undefined; i++) {
      try {
        await rpc.write(uuid, chunk);
        accepted++;
      } catch (err) {
        if (!(err instanceof RpcCallError)) throw err;
        refusal = err;
      }
    }
    expect(refusal?.serverMessage).toMatch(/^the client of connection .* does not read: \d+ bytes to it are unsent/);
    // The server holds at most the mark plus one push: what was unsent when the push was refused.
    const [, unsent, mark] = /(\d+) bytes to it are unsent, at or over its socket's high-water mark of (\d+)/
      .exec(refusal!.serverMessage)!
      .map(Number);
    expect(unsent).toBeGreaterThanOrEqual(mark!);
    expect(unsent).toBeLessThan(mark! + chunk.length);
    // And it stays refused while the client does not read; a broadcast skips it and says so.
    await expect(rpc.write(uuid, "x")).rejects.toThrow(/does not read/);
    const control = `http://${rr.service.control!.address}`;
    const skipped = await fetch(`${control}/servers/main/broadcast`, { method: "POST", body: "x" });
    expect([skipped.status, await skipped.json()]).toEqual([200, { refused: [uuid] }]);
    expect(await rpc.broadcast("main", "x").then(() => true)).toBe(true);
    // Counted as they went: the pushes taken and their bytes, the four refused (two writes, two broadcasts).
    const counted = rr.service.server.counters().main!;
    expect({
      taken: counted.pushes.taken - before.pushes.taken,
      not_reading: counted.pushes.not_reading - before.pushes.not_reading,
      bytes: counted.bytesPushed - before.bytesPushed,
    }).toEqual({ taken: accepted, not_reading: 4, bytes: accepted * chunk.length });
    const scrape = await (await fetch(`${control}/metrics`)).text();
    for (const [series, count] of [
      ['rr_tcp_pushes_total{server="main",outcome="taken"}', counted.pushes.taken],
      ['rr_tcp_pushes_total{server="main",outcome="not_reading"}', counted.pushes.not_reading],
      ['rr_tcp_bytes_pushed_total{server="main"}', counted.bytesPushed],
    ] as const) {
      expect(scrape.split("\n")).toContain(`${series} ${count}`);
    }
    // Once it reads, every accepted byte arrives, in full, and pushes are taken again.
    c.socket.resume();
    await eventually(() => c.received().length >= accepted * chunk.length, {
      timeout: 30_000,
      what: `${accepted} pushes of ${chunk.length} bytes to arrive`,
      detail: () => `got ${c.received().length} bytes`,
    });
    expect(c.received()).toBe("p".repeat(accepted * chunk.length));
    await eventually(
      async () =>
        (await rpc
          .write(uuid, "after\r\n")
          .then(() => true)
          .catch(() => false)) === true,
      { what: "a push to be taken once the client reads" },
    );
    await c.receive("after\r\n");
  });
});

describe("the control API", () => {
  it("POST /connections/<uuid>/write and /writeclose, /servers/<name>/broadcast, GET /connections?server=", async () => {
    const control = `http://${rr.service.control!.address}`;
    const { client: c, uuid } = await client("main");
    const o = await client("other");
    // Idle (its CONNECTED answered), so a push is written at once: `written: true`.
    c.socket.write("idle\r\n");
    await c.receive("idle\r\n");
    const post = async (path: string, body: Buffer | string) => {
      const res = await fetch(`${control}${path}`, { method: "POST", body });
      return [res.status, await res.json()];
    };
    // Raw bytes, as they are (here bytes no text encoding would survive).
    const binary = Buffer.from([0x00, 0xff, 0x0d, 0x0a]);
    expect(await post(`/connections/${uuid}/write`, binary)).toEqual([200, { written: true }]);
    await eventually(() => c.received().length === 6 + 4, { what: "the binary push" });
    expect(Buffer.from(c.received().slice(6), "latin1")).toEqual(binary);
    expect(await post(`/servers/other/broadcast`, "to other\r\n")).toEqual([200, { reached: 1 }]);
    await o.client.receive("to other\r\n");
    expect(await post(`/servers/chat/broadcast`, "x")).toEqual([
      404,
      { error: expect.stringMatching(/no server is named "chat"/) },
    ]);
    const unknown = "22222222-2222-4222-8222-222222222222";
    expect(await post(`/connections/${unknown}/write`, "x")).toEqual([
      404,
      { error: `no open connection has uuid ${unknown}` },
    ]);
    const listed = (await (await fetch(`${control}/connections?server=other`)).json()) as {
      connections: { uuid: string }[];
    };
    expect(listed.connections.map((x: { uuid: string }) => x.uuid)).toEqual([o.uuid]);
    expect((await fetch(`${control}/connections?server=chat`)).status).toBe(404);
    const tooBig = await fetch(`${control}/connections/${uuid}/write`, {
      method: "POST",
      body: Buffer.alloc(300 * 1024),
    });
    expect(tooBig.status).toBe(413);
    expect(await post(`/connections/${uuid}/writeclose`, "bye\r\n")).toEqual([200, { written: true, closing: true }]);
    await within(c.ended, { what: "FIN after writeclose" });
    expect(c.received().endsWith("bye\r\n")).toBe(true);
  });
});

describe("the CLI", () => {
  it(
    "rr-tcp write, write --close, broadcast --base64, connections --server; an unknown uuid exits 1 naming it",
    async () => {
      const { client: c, uuid } = await client("main");
      const o = await client("other");
      const address = rr.service.rpc!.address;
      const run = (...args: string[]) => runCliToEnd([...args, "--rpc", address], dir);
      const written = await run("write", uuid, "from the shell\r\n");
      expect([written.code, written.stdout]).toEqual([0, `16 bytes to ${uuid}\n`]);
      await c.receive("from the shell\r\n");
      const broadcast = await run("broadcast", "other", "--base64", b64("to all\r\n"));
      expect([broadcast.code, broadcast.stdout]).toEqual([0, "8 bytes to every client of other\n"]);
      await o.client.receive("to all\r\n");
      const listed = await run("connections", "--server", "other", "--json");
      expect(JSON.parse(listed.stdout).connections.map((x: { uuid: string }) => x.uuid)).toEqual([o.uuid]);
      const unknown = "33333333-3333-4333-8333-333333333333";
      const refused = await run("write", unknown, "x");
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`rr-tcp: RPC tcp.Write failed: no open connection has uuid ${unknown}\n`);
      const closed = await run("write", uuid, "--close", "last\r\n");
      expect(closed.code).toBe(0);
      await within(c.ended, { what: "FIN after write --close" });
      expect(c.received()).toBe("from the shell\r\nlast\r\n");
    },
    scaled(90_000),
  );
});
