/**
 * Issue 17's integration case: HAProxy (Debian's haproxy) in TCP mode with send-proxy-v2 in front
 * of two rr-tcp instances (proxy_protocol: true) sharing a redis-server, all on loopback and all
 * started here. 200 clients go through HAProxy; instance B is SIGKILLed while the clients are in
 * their second round. It shows:
 *   - the workers saw each client's own address (the CONNECTED context's remote_addr, from the
 *     PROXY header: 127.0.0.1 and the client's local port), not HAProxy's;
 *   - a push addressed by uuid on A's RPC reached a client held by B, and one on B's reached A's;
 *   - the surviving instance A kept serving: its clients' rounds go on, and B's clients, which
 *     reconnect through HAProxy, are served by A;
 *   - the reconnecting clients found their counters in Redis (the workers keep a counter per
 *     client name there, with ioredis), so their count went on from where it was.
 * Skipped when haproxy or redis-server is not installed (.ci/run installs both), unless
 * RR_TCP_REQUIRE_TOOLCHAINS is set (as CI sets it): then it fails.
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient } from "../../src/worker/index.js";
import { eventually, scaled, within } from "../fixtures/eventually.js";
import { freePort } from "../fixtures/free-port.js";
import {
  CLUSTER_WORKER_CMD,
  lineClient,
  outputOf,
  scratchDir,
  startChild,
  startInstance,
  startRedis,
  stopAll,
  type Instance,
  type LineClient,
} from "../cluster/harness.js";

const CLIENTS = 200;

function installed(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const HAVE_TOOLS = installed("haproxy") && installed("redis-server");

const instanceConfig = (name: string, port: number, redis: string) => `
version: "3"
server:
  command: "${CLUSTER_WORKER_CMD}"
  env: { INSTANCE: ${name}, COUNTER_REDIS: "${redis}" }
rpc:
  listen: tcp://127.0.0.1:0
tcp:
  servers:
    main: { addr: "127.0.0.1:${port}", proxy_protocol: true }
  pool: { num_workers: 2, destroy_timeout: 5s }
cluster:
  redis: ${redis}
  instance_id: ${name}
  registry_ttl: 3s
logs: { level: info }
`;

const haproxyConfig = (front: number, a: number, b: number) => `
global
  maxconn 2000
defaults
  mode tcp
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
frontend front
  bind 127.0.0.1:${front}
  default_backend instances
backend instances
  balance roundrobin
  server a 127.0.0.1:${a} send-proxy-v2 check inter 200ms fall 2 rise 1
  server b 127.0.0.1:${b} send-proxy-v2 check inter 200ms fall 2 rise 1
`;

const HELLO = /^hello (\S+) ([0-9a-f-]{36}) (\S+)$/;

/** One client of the run, by name; it reconnects when its connection goes. */
interface Client {
  name: string;
  conn: LineClient;
  instance: string;
  uuid: string;
  /** Every remote_addr its workers reported, against its own local port then. */
  addresses: { seen: string; own: string }[];
  /** The counts it was answered, in order. */
  counts: number[];
  reconnects: number;
}

let front: number;
let a: Instance;
let b: Instance;
let haproxy: ChildProcess;

/** Connects through HAProxy and reads the hello; retried when HAProxy closes before a server answers. */
async function connectClient(client: Pick<Client, "name"> & Partial<Client>): Promise<void> {
  // HAProxy closes a client it has no server for (both marked down a moment on a loaded machine):
  // tried again, a little later each time, until the deadline.
  const deadline = Date.now() + scaled(20_000);
  for (let attempt = 1; ; attempt++) {
    const conn = await lineClient(front);
    const hello = await Promise.race([
      conn.line(HELLO, `the hello of ${client.name}`, 15_000),
      conn.closed.then(() => undefined),
    ]);
    if (hello === undefined) {
      if (Date.now() > deadline)
        throw new Error(`${client.name}: HAProxy closed ${attempt} connections before a hello`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(20 * attempt, 500)));
      continue;
    }
    client.conn = conn;
    client.instance = hello[1]!;
    client.uuid = hello[2]!;
    client.addresses ??= [];
    client.addresses.push({ seen: hello[3]!, own: `127.0.0.1:${conn.socket.localPort}` });
    return;
  }
}

/** Sends count:NAME and resolves with the count; undefined when the connection went first. */
async function count(client: Client): Promise<number | undefined> {
  const before = client.conn.lines().length;
  client.conn.socket.write(`count:${client.name}\r\n`);
  const answered = new Promise<number>((resolve) => {
    const check = (): void => {
      const line = client.conn
        .lines()
        .slice(before)
        .find((l) => l.startsWith("count "));
      if (line) {
        client.conn.socket.off("data", check);
        resolve(Number(line.split(" ")[1]));
      }
    };
    client.conn.socket.on("data", check);
    check();
  });
  const n = await within(Promise.race([answered, client.conn.closed.then(() => undefined)]), {
    timeout: 20_000,
    what: `the count of ${client.name}`,
  });
  if (n !== undefined) client.counts.push(n);
  return n;
}

/** A round: each client counts once, reconnecting through HAProxy when its connection is gone. */
async function round(clients: Client[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      for (;;) {
        const n = await count(client);
        if (n !== undefined) return;
        client.reconnects++;
        await connectClient(client);
      }
    }),
  );
}

describe.skipIf(!HAVE_TOOLS && !process.env.RR_TCP_REQUIRE_TOOLCHAINS)(
  "HAProxy with send-proxy-v2 in front of two instances sharing Redis",
  () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    const clients: Client[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      const [portA, portB] = [await freePort(), await freePort()];
      front = await freePort();
      [a, b] = await Promise.all([
        startInstance("a", instanceConfig("a", portA, redis.url)),
        startInstance("b", instanceConfig("b", portB, redis.url)),
      ]);
      const dir = scratchDir();
      const cfg = join(dir, "haproxy.cfg");
      writeFileSync(cfg, haproxyConfig(front, portA, portB));
      haproxy = startChild("haproxy", ["-db", "-f", cfg]);
      await eventually(
        async () => {
          try {
            const probe = await lineClient(front);
            const hello = await Promise.race([probe.line(HELLO, "a probe's hello", 2_000), probe.closed]);
            probe.socket.destroy();
            return hello !== undefined;
          } catch {
            return false;
          }
        },
        { timeout: 15_000, what: "HAProxy to pass a client through", detail: () => outputOf(haproxy) },
      );
    }, 60_000);

    afterAll(async () => {
      await stopAll();
    });

    it("200 clients: real addresses, a push across instances, B killed mid-run, counters found in Redis", async () => {
      // Round 1: every client connects through HAProxy and counts once.
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          const client = { name: `client-${i}`, counts: [], reconnects: 0 } as unknown as Client;
          await connectClient(client);
          clients.push(client);
        }),
      );
      await round(clients);
      const onA = clients.filter((c) => c.instance === "a");
      const onB = clients.filter((c) => c.instance === "b");
      expect(onA.length).toBeGreaterThan(0);
      expect(onB.length).toBeGreaterThan(0);
      expect(clients.every((c) => c.counts[0] === 1)).toBe(true);

      // A push addressed by uuid reaches a client the other instance holds, both ways.
      const rpcA = await RpcClient.connect(a.rpc);
      const rpcB = await RpcClient.connect(b.rpc);
      try {
        await rpcA.write(onB[0]!.uuid, "pushed via a\r\n");
        await rpcB.write(onA[0]!.uuid, "pushed via b\r\n");
        await onB[0]!.conn.line(/^pushed via a$/, "A's push to B's client");
        await onA[0]!.conn.line(/^pushed via b$/, "B's push to A's client");
        // A lists every client, B's too (the probe's connection is gone once its CLOSE is through).
        await eventually(async () => (await rpcA.list("main")).connections.length === CLIENTS, {
          what: `A to list ${CLIENTS} connections`,
        });
      } finally {
        rpcB.close();
      }

      // Round 2, and B dies in the middle of it.
      const second = round(clients);
      b.cli.child.kill("SIGKILL");
      await second;
      // Round 3: everyone is on A now.
      await round(clients);

      // The workers saw the clients' own addresses, on every connection, before and after the kill.
      for (const client of clients) {
        for (const { seen, own } of client.addresses) expect(seen).toBe(own);
      }
      // B's clients reconnected through HAProxy and were served by A.
      expect(onB.every((c) => c.reconnects > 0 && c.instance === "a")).toBe(true);
      expect(onA.every((c) => c.reconnects === 0 && c.instance === "a")).toBe(true);
      // Counters went on from Redis: a reconnecting client's first count after the kill is more
      // than its last before (B's worker may have counted an answer lost in the kill), and each
      // client's last count is what Redis holds.
      for (const client of clients) {
        expect(client.counts.length).toBe(3);
        expect(client.counts[1]!).toBeGreaterThan(client.counts[0]!);
        expect(client.counts[2]!).toBe(client.counts[1]! + 1);
        expect(Number(await redis.client.get(`counter:${client.name}`))).toBe(client.counts[2]);
      }
      // The registry forgets B: its entries expire (registry_ttl 3s); A holds every client.
      expect((await rpcA.list("main")).connections.map((c) => c.uuid).sort()).toEqual(
        clients.map((c) => c.uuid).sort(),
      );
      await eventually(
        async () => {
          const keys = await redis.client.keys("rr-tcp:conn:*");
          const holders = await Promise.all(
            keys.map(async (k) => JSON.parse((await redis.client.get(k)) ?? "{}").instance),
          );
          return keys.length === CLIENTS && holders.every((h) => h === "a");
        },
        { timeout: 10_000, what: "B's registry entries to expire, A's to hold every client" },
      );
      rpcA.close();
    }, 60_000);
  },
);
