/**
 * `cluster.redis` (docs/cluster.md): two real rr-tcp instances sharing one real redis-server.
 * tcp.Write, tcp.WriteClose, tcp.Close, tcp.Broadcast and tcp.List called on instance A's RPC
 * reach the clients instance B holds; an instance killed with SIGKILL leaves registry entries that
 * expire (registry_ttl 2s here); an unreachable Redis at start is an error naming cluster.redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient } from "../../src/worker/index.js";
import { eventually, within } from "../fixtures/eventually.js";
import { freePort } from "../fixtures/free-port.js";
import { runCli } from "../integration/cli-harness.js";
import {
  CLUSTER_WORKER_CMD,
  lineClient,
  scratchDir,
  startInstance,
  startRedis,
  stopAll,
  type Instance,
  type LineClient,
} from "./harness.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";

const config = (name: string, redis: string) => `
version: "3"
server:
  command: "${CLUSTER_WORKER_CMD}"
  env: { INSTANCE: ${name} }
rpc:
  listen: tcp://127.0.0.1:0
control:
  addr: 127.0.0.1:0
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
    other: { addr: "127.0.0.1:0" }
  pool: { num_workers: 1, destroy_timeout: 5s }
cluster:
  redis: ${redis}
  instance_id: ${name}
  registry_ttl: 2s
  forward_timeout: 3s
  key_prefix: test
logs: { level: info }
`;

const HELLO = /^hello (\S+) ([0-9a-f-]{36}) (\S+)$/;

interface Held {
  client: LineClient;
  instance: string;
  uuid: string;
}

async function hello(port: number): Promise<Held> {
  const client = await lineClient(port);
  const [, instance, uuid] = await client.line(HELLO, `the hello line on port ${port}`);
  return { client, instance: instance!, uuid: uuid! };
}

let redis: { url: string; client: Redis };
let a: Instance;
let b: Instance;
let rpcA: RpcClient;

beforeAll(async () => {
  redis = await startRedis();
  [a, b] = await Promise.all([startInstance("a", config("a", redis.url)), startInstance("b", config("b", redis.url))]);
  rpcA = await RpcClient.connect(a.rpc);
}, 60_000);

afterAll(async () => {
  rpcA?.close();
  await stopAll();
});

describe("two instances sharing one Redis", () => {
  it("tcp.Write on A reaches a client held by B; tcp.WriteClose too, and closes it", async () => {
    const onB = await hello(b.port("main"));
    expect(onB.instance).toBe("b");
    await rpcA.write(onB.uuid, "from a\r\n");
    await onB.client.line(/^from a$/, "the push forwarded from A");
    // The client is B's still, and served.
    onB.client.socket.write("echo\r\n");
    await onB.client.line(/^echo$/, "the echo after the push");

    const closing = await hello(b.port("main"));
    await rpcA.writeClose(closing.uuid, "bye from a\r\n");
    await within(closing.client.closed, { what: "B's client closed by A's tcp.WriteClose" });
    expect(closing.client.lines()).toContain("bye from a");
  });

  it("tcp.Broadcast on A reaches the clients of that server on both instances, none of another server", async () => {
    const [onA, onB, otherOnB] = await Promise.all([
      hello(a.port("main")),
      hello(b.port("main")),
      hello(b.port("other")),
    ]);
    await rpcA.broadcast("main", "to all of main\r\n");
    await onA.client.line(/^to all of main$/, "the broadcast on A");
    await onB.client.line(/^to all of main$/, "the broadcast on B");
    // The other server's client: its echo comes back, and the broadcast came before it, if at all.
    otherOnB.client.socket.write("ping\r\n");
    await otherOnB.client.line(/^ping$/, "the echo on other");
    expect(otherOnB.client.lines()).not.toContain("to all of main");
  });

  it("tcp.List on A lists both instances' connections, of one server when asked", async () => {
    const [onA, onB, otherOnB] = await Promise.all([
      hello(a.port("main")),
      hello(b.port("main")),
      hello(b.port("other")),
    ]);
    const all = (await rpcA.list()).connections.map((c) => c.uuid);
    expect(all).toEqual(expect.arrayContaining([onA.uuid, onB.uuid, otherOnB.uuid]));
    const main = await rpcA.list("main");
    const uuids = main.connections.map((c) => c.uuid);
    expect(uuids).toEqual(expect.arrayContaining([onA.uuid, onB.uuid]));
    expect(uuids).not.toContain(otherOnB.uuid);
    const listedB = main.connections.find((c) => c.uuid === onB.uuid)!;
    expect(listedB.remote_addr).toBe(`127.0.0.1:${onB.client.socket.localPort}`);
    // Each with the instance holding it, the asked one's own included.
    expect(listedB.instance).toBe(onB.instance);
    expect(main.connections.find((c) => c.uuid === onA.uuid)!.instance).toBe(onA.instance);
    expect(onA.instance).not.toBe(onB.instance);
  });

  it("tcp.Close on A closes a client held by B, with its CLOSE event there", async () => {
    const onB = await hello(b.port("main"));
    expect(await rpcA.call("tcp.Close", onB.uuid)).toBe(true);
    await within(onB.client.closed, { what: "B's client closed by A's tcp.Close" });
    await eventually(async () => (await redis.client.get(`test:conn:${onB.uuid}`)) === null, {
      what: "the closed connection's registry entry to go",
    });
  });

  it("the control API on A pushes to, lists and closes B's clients too, with the same statuses", async () => {
    const onB = await hello(b.port("main"));
    const base = `http://${a.control}`;
    const write = await fetch(`${base}/connections/${onB.uuid}/write`, { method: "POST", body: "via http\r\n" });
    expect(write.status).toBe(200);
    expect(await write.json()).toMatchObject({ written: true });
    await onB.client.line(/^via http$/, "the control API's push forwarded from A");
    const listed = (await (await fetch(`${base}/connections?server=main`)).json()) as {
      connections: { uuid: string }[];
    };
    expect(listed.connections.map((c) => c.uuid)).toContain(onB.uuid);
    const broadcast = await fetch(`${base}/servers/main/broadcast`, { method: "POST", body: "all via http\r\n" });
    expect(((await broadcast.json()) as { reached: number }).reached).toBeGreaterThanOrEqual(2);
    await onB.client.line(/^all via http$/, "the control API's broadcast on B");
    const closed = await fetch(`${base}/connections/${onB.uuid}/close`, { method: "POST" });
    expect(closed.status).toBe(200);
    await within(onB.client.closed, { what: "B's client closed by A's control API" });
    const unknown = await fetch(`${base}/connections/${onB.uuid}/write`, { method: "POST", body: "x" });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toContain("on any instance");
  });

  it("an instance that listens but does not answer: a push fails after forward_timeout, a broadcast goes on without it", async () => {
    // A "ghost" instance: subscribed to its channel, registered, holding one uuid, never answering.
    const ghost = redis.client.duplicate();
    try {
      await ghost.subscribe("test:instance:ghost");
      const uuid = "11111111-1111-4111-8111-111111111111";
      await redis.client.set(
        `test:conn:${uuid}`,
        JSON.stringify({ instance: "ghost", server: "main", remote_addr: "", connected_at: "" }),
        "PX",
        60_000,
      );
      await redis.client.zadd("test:instances", Date.now() + 60_000, "ghost");
      const started = Date.now();
      await expect(rpcA.write(uuid, "x\r\n")).rejects.toThrow(
        /instance ghost did not answer write within cluster.forward_timeout \(3000 ms\)/,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
      const viaHttp = await fetch(`http://${a.control}/connections/${uuid}/write`, { method: "POST", body: "x" });
      expect(viaHttp.status).toBe(504);
      expect(((await viaHttp.json()) as { error: string }).error).toContain("cluster.forward_timeout");
      const onB = await hello(b.port("main"));
      await rpcA.broadcast("main", "despite the ghost\r\n");
      await onB.client.line(/^despite the ghost$/, "the broadcast that left the ghost out");
      await redis.client.del(`test:conn:${uuid}`);
    } finally {
      await redis.client.zrem("test:instances", "ghost");
      ghost.disconnect();
    }
  });

  it("an uuid no instance holds is an error naming it", async () => {
    const uuid = "00000000-0000-4000-8000-000000000000";
    await expect(rpcA.write(uuid, "x\r\n")).rejects.toThrow(`no open connection has uuid ${uuid} on any instance`);
  });

  it("the registry names the holder of each connection", async () => {
    const onB = await hello(b.port("main"));
    const entry = JSON.parse((await redis.client.get(`test:conn:${onB.uuid}`))!) as Record<string, string>;
    expect(entry).toMatchObject({
      instance: "b",
      server: "main",
      remote_addr: `127.0.0.1:${onB.client.socket.localPort}`,
    });
    expect(Number(await redis.client.pttl(`test:conn:${onB.uuid}`))).toBeGreaterThan(0);
  });

  it("SIGKILL of B: its entries expire within registry_ttl, A's stay refreshed, pushes to B's uuids fail at once", async () => {
    const [onA, onB] = await Promise.all([hello(a.port("main")), hello(b.port("main"))]);
    expect(await redis.client.exists(`test:conn:${onB.uuid}`)).toBe(1);
    b.cli.child.kill("SIGKILL");
    await within(b.cli.exited, { what: "instance B to die" });
    const killedAt = Date.now();
    // Nothing removed it: it is left to expire.
    expect(await redis.client.exists(`test:conn:${onB.uuid}`)).toBe(1);
    // No instance listens for B now: the push is refused without waiting for forward_timeout (3s).
    await expect(rpcA.write(onB.uuid, "x\r\n")).rejects.toThrow(
      `no open connection has uuid ${onB.uuid} on any instance (the registry names instance b, which is gone)`,
    );
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    // A's listing leaves B out at once too, and still has its own.
    const listed = (await rpcA.list()).connections.map((c) => c.uuid);
    expect(listed).toContain(onA.uuid);
    expect(listed).not.toContain(onB.uuid);
    await eventually(async () => (await redis.client.exists(`test:conn:${onB.uuid}`)) === 0, {
      timeout: 6_000,
      what: "B's registry entry to expire (registry_ttl 2s)",
    });
    const left = await redis.client.keys("test:conn:*");
    const holders = await Promise.all(
      left.map(async (key) => JSON.parse((await redis.client.get(key)) ?? "{}").instance),
    );
    expect(holders.every((holder) => holder === "a" || holder === undefined)).toBe(true);
    // A's entry is refreshed while A lives: its time to live goes up again.
    const ttlA = await redis.client.pttl(`test:conn:${onA.uuid}`);
    expect(ttlA).toBeGreaterThan(0);
    await eventually(async () => (await redis.client.pttl(`test:conn:${onA.uuid}`)) > ttlA, {
      what: "A's registry entry to be refreshed",
    });
    const score = await redis.client.zscore("test:instances", "b");
    expect(score === null || Number(score) < Date.now()).toBe(true);
    // And A serves on.
    onA.client.socket.write("still here\r\n");
    await onA.client.line(/^still here$/, "A's echo after B died");
  });
});

describe("an instance that stops (SIGTERM)", () => {
  it("closes its connections, whose entries go with them, and leaves the instances at once", async () => {
    const c = await startInstance("c", config("c", redis.url));
    const onC = await hello(c.port("main"));
    expect(await redis.client.exists(`test:conn:${onC.uuid}`)).toBe(1);
    expect(await redis.client.zscore("test:instances", "c")).not.toBeNull();
    c.cli.child.kill("SIGTERM");
    const { code } = await within(c.cli.exited, { timeout: 15_000, what: "instance C to stop" });
    expect(code).toBe(0);
    await within(onC.client.closed, { what: "C's client closed by its stop" });
    expect(await redis.client.exists(`test:conn:${onC.uuid}`)).toBe(0);
    expect(await redis.client.zscore("test:instances", "c")).toBeNull();
  });
});

describe("cluster.redis unreachable at start", () => {
  it("exits 1 with an error naming cluster.redis, before any worker starts", async () => {
    const port = await freePort(); // nothing listens there
    const dir = scratchDir();
    const file = join(dir, ".rr.yaml");
    writeFileSync(file, config("lonely", `redis://127.0.0.1:${port}`));
    const cli = runCli(["serve", "-c", file], dir);
    const { code } = await within(cli.exited, { timeout: 15_000, what: "rr-tcp to exit", detail: () => cli.stderr() });
    expect(code).toBe(1);
    expect(cli.stderr()).toContain("cluster.redis");
    expect(cli.stderr()).toContain(`127.0.0.1:${port}`);
    expect(cli.stderr()).not.toContain("worker pool started");
  });
});
