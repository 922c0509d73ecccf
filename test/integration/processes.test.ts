/**
 * tcp.processes: 2 server processes under one primary (node:cluster), started as a user starts
 * rr-tcp (the CLI, a child process here), real sockets, real worker processes
 * (test/fixtures/push-worker.ts). Connections land on both processes; every uuid is reached
 * through the primary's RPC and control API, whichever process holds it (also by a worker
 * pushing to its own connection through RR_RPC); max_connections and the workers are split
 * between them; a killed server process is replaced; nothing outlives a stop or a kill.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionList, PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import { parentPid } from "../../src/service/signals.js";
import { RpcClient } from "../../src/worker/index.js";
import { eventually, scaled } from "../fixtures/eventually.js";
import { openClient, portOf, type Client } from "../server/harness.js";
import { killRunningClis, runCli, type Cli } from "./cli-harness.js";
import { ROOT, TSX_LOADER } from "./harness.js";
import { isAlive } from "../fixtures/process-alive.js";

const PUSH_WORKER = join(ROOT, "test", "fixtures", "push-worker.ts");
const dir = mkdtempSync(join(tmpdir(), "rr-tcp-processes-"));

const CONFIG = `
rpc:
  listen: tcp://127.0.0.1:0
control:
  addr: 127.0.0.1:0
server:
  command: ${process.execPath} --import ${TSX_LOADER} ${PUSH_WORKER}
  env:
    PUSH_DIR: ${dir}
tcp:
  processes: 2
  servers:
    main: { addr: "127.0.0.1:0" }
    capped: { addr: "127.0.0.1:0", max_connections: 4 }
  pool: { num_workers: 4, destroy_timeout: 5s }
`;

let cli: Cli;
let servers: Record<string, string>;
let control: string;
let rpc: RpcClient;
const clients: Client[] = [];

const alive = isAlive;

async function getJson(path: string): Promise<unknown> {
  const response = await fetch(`http://${control}${path}`);
  expect(response.status).toBe(200);
  return response.json();
}

const workers = async (): Promise<PoolState> => PoolState.fromJSON(await getJson("/workers"));
/** The server processes: the parents of the workers, each a child of the primary. */
const serverProcesses = async (): Promise<Set<number>> =>
  new Set((await workers()).workers.map((w) => parentPid(w.pid)!).filter((pid) => pid !== undefined));

/** A client of `server` that got its echo, and its uuid as the primary lists it. */
async function client(server = "main"): Promise<{ client: Client; uuid: string }> {
  const opened = await openClient(portOf(servers[server]!));
  clients.push(opened);
  opened.socket.write("hello\r\n");
  await opened.receive("hello\r\n");
  const port = `:${opened.socket.localPort}`;
  const listed = (await rpc.list(server)).connections.find((c) => c.remote_addr.endsWith(port));
  expect(listed, `the connection from ${port} in tcp.List`).toBeDefined();
  return { client: opened, uuid: listed!.uuid };
}

beforeAll(async () => {
  const config = join(dir, ".rr.yaml");
  writeFileSync(config, CONFIG);
  cli = runCli(["serve", "-c", config], dir);
  const rpcLine = await cli.log((l) => l.msg === `RPC listening on ${String(l.addr)}`, "the RPC address");
  const controlLine = await cli.log((l) => String(l.msg).startsWith("control API listening"), "the control address");
  const ready = await cli.log((l) => l.msg === "rr-tcp ready", "rr-tcp ready", 30_000);
  servers = ready.servers as Record<string, string>;
  control = String(controlLine.addr);
  rpc = await RpcClient.connect(String(rpcLine.addr));
}, scaled(60_000));

afterAll(() => {
  rpc?.close();
  for (const c of clients) c.socket.destroy();
  killRunningClis();
  rmSync(dir, { recursive: true, force: true });
});

describe("two server processes", () => {
  it("each owns its share of the workers, and the primary lists all of them", async () => {
    const state = await workers();
    expect(state.workers).toHaveLength(4);
    const parents = await serverProcesses();
    expect(parents.size).toBe(2);
    for (const parent of parents) {
      expect(parentPid(parent)).toBe(cli.child.pid);
      expect(state.workers.filter((w) => parentPid(w.pid) === parent)).toHaveLength(2);
    }
  });

  it("serves connections on both processes, and reaches each uuid through the primary", async () => {
    const opened = [];
    for (let i = 0; i < 6; i++) opened.push(await client());
    // node:cluster hands connections out in turn: both processes' workers have served.
    const served = (await workers()).workers.filter((w) => w.num_execs > 0).map((w) => parentPid(w.pid));
    expect(new Set(served).size).toBe(2);
    // tcp.Write reaches exactly the client it names, whichever process holds it.
    for (const [i, { client: c, uuid }] of opened.entries()) {
      await rpc.write(uuid, `to ${i}\r\n`);
      await c.receive(`to ${i}\r\n`);
    }
    for (const [i, { client: c }] of opened.entries()) {
      for (let j = 0; j < opened.length; j++) if (j !== i) expect(c.received()).not.toContain(`to ${j}\r\n`);
    }
    // A worker pushes to its own connection through RR_RPC, the primary's address.
    const { client: self } = opened[0]!;
    self.socket.write("self:ping\r\n");
    await self.receive("pushed ping\r\n");
    await self.receive("reply ping\r\n");
    // The listing is every process's; tcp.Close closes the one named, wherever it is.
    const listed = ConnectionList.fromJSON(await getJson("/connections?server=main")).connections.map((c) => c.uuid);
    for (const { uuid } of opened) expect(listed).toContain(uuid);
    for (const { client: c, uuid } of opened) {
      expect(await rpc.call("tcp.Close", uuid)).toBe(true);
      await c.ended;
    }
    await expect(rpc.write("00000000-0000-4000-8000-000000000000", "x")).rejects.toThrow(
      /no open connection has uuid 00000000-0000-4000-8000-000000000000/,
    );
  });

  it("a broadcast reaches the clients of both processes", async () => {
    const opened = [];
    for (let i = 0; i < 4; i++) opened.push(await client());
    await rpc.broadcast("main", "to all\r\n");
    for (const { client: c } of opened) await c.receive("to all\r\n");
    for (const { client: c } of opened) c.socket.destroy();
  });

  it("max_connections bounds the total over both processes", async () => {
    const attempts: Client[] = [];
    for (let i = 0; i < 7; i++) {
      const opened = await openClient(portOf(servers.capped!));
      clients.push(opened);
      attempts.push(opened);
      opened.socket.write(`n${i}\r\n`);
      // Each is served, or refused (closed at once, no event, a reset as it had sent bytes): which, before the next one.
      await Promise.race([opened.receive(`n${i}\r\n`).catch(() => undefined), opened.closed]);
    }
    const served = attempts.filter((c, i) => c.received().includes(`n${i}\r\n`));
    expect(served.length).toBeLessThanOrEqual(4);
    // Each process refuses past its share (2): at least 3 of the 7 were refused.
    expect(attempts.length - served.length).toBeGreaterThanOrEqual(3);
    const metrics = await (await fetch(`http://${control}/metrics`)).text();
    const rejected = Number(/rr_tcp_connections_rejected_total\{server="capped"\} (\d+)/.exec(metrics)?.[1]);
    expect(rejected).toBe(attempts.length - served.length);
    for (const c of attempts) c.socket.destroy();
  });

  it("adds a worker to the process with the fewest, removes one from the process with the most", async () => {
    await rpc.call("informer.AddWorker", "tcp");
    await eventually(async () => (await workers()).workers.length === 5, { what: "5 workers" });
    await rpc.call("informer.RemoveWorker", "tcp");
    await eventually(async () => (await workers()).workers.length === 4, { what: "4 workers" });
    const state = await workers();
    for (const parent of await serverProcesses()) {
      expect(state.workers.filter((w) => parentPid(w.pid) === parent)).toHaveLength(2);
    }
  });

  it("a reset replaces the workers of both processes", async () => {
    const before = (await workers()).workers.map((w) => w.pid);
    expect(await rpc.call("resetter.Reset", "tcp")).toBe(true);
    const after = (await workers()).workers.map((w) => w.pid);
    expect(after).toHaveLength(4);
    for (const pid of after) expect(before).not.toContain(pid);
    expect((await serverProcesses()).size).toBe(2);
  });

  it("a server process killed with SIGKILL is replaced; its workers do not outlive it", async () => {
    const state = await workers();
    const before = await serverProcesses();
    const victim = parentPid(state.workers[0]!.pid)!;
    const orphans = state.workers.filter((w) => parentPid(w.pid) === victim).map((w) => w.pid);
    process.kill(victim, "SIGKILL");
    await cli.log(
      (l) =>
        l.msg === `server process ${String(l.process)} exited (SIGKILL); its connections are lost; starting it again`,
      "the primary to see the kill",
    );
    await cli.log(
      (l) => String(l.msg).endsWith(" ready") && typeof l.process_pid === "number" && !before.has(l.process_pid),
      "a replacement server process",
      30_000,
    );
    await eventually(async () => (await workers()).workers.length === 4 && (await serverProcesses()).size === 2, {
      what: "4 workers in 2 server processes again",
      timeout: 20_000,
    });
    expect(await serverProcesses()).not.toContain(victim);
    await eventually(() => orphans.every((pid) => !alive(pid)), { what: "the killed process's workers to exit" });
    // And it serves.
    for (let i = 0; i < 4; i++) await client();
  });

  it("SIGTERM stops every server process and every worker, exit code 0", async () => {
    const state = await workers();
    const pids = [...state.workers.map((w) => w.pid), ...(await serverProcesses())];
    cli.child.kill("SIGTERM");
    const { code } = await cli.exited;
    expect(code).toBe(0);
    await eventually(() => pids.every((pid) => !alive(pid)), { what: "no server process or worker left" });
  });
});

describe("a primary killed with SIGKILL", () => {
  it("takes its server processes and their workers with it", async () => {
    const config = join(dir, "kill.rr.yaml");
    writeFileSync(config, CONFIG);
    const killed = runCli(["serve", "-c", config], dir);
    const line = await killed.log((l) => String(l.msg).startsWith("control API listening"), "the control address");
    await killed.log((l) => l.msg === "rr-tcp ready", "rr-tcp ready", 30_000);
    control = String(line.addr);
    const state = await workers();
    const pids = [...state.workers.map((w) => w.pid), ...(await serverProcesses())];
    expect(pids).toHaveLength(6);
    killed.child.kill("SIGKILL");
    await killed.exited;
    await eventually(() => pids.every((pid) => !alive(pid)), {
      what: "no server process or worker left",
      timeout: 10_000,
    });
  });
});
