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
import { pushWorkerConfig } from "./harness.js";
import { isAlive } from "../fixtures/process-alive.js";

const dir = mkdtempSync(join(tmpdir(), "rr-tcp-processes-"));

const CONFIG = pushWorkerConfig(
  dir,
  `  processes: 2
  servers:
    main: { addr: "127.0.0.1:0" }
    capped: { addr: "127.0.0.1:0", max_connections: 4 }
  pool: { num_workers: 4, destroy_timeout: 5s }
`,
);

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

async function metrics(): Promise<string> {
  const response = await fetch(`http://${control}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series in a scrape (`labels` as the text has them, "" for none); NaN when absent. */
function counter(scrape: string, name: string, labels: string): number {
  const series = labels === "" ? name : `${name}{${labels}}`;
  const line = scrape.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}
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
    // The primary hands connections out in turn: both processes' workers have served.
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
    const unknown = "00000000-0000-4000-8000-000000000000";
    await expect(rpc.write(unknown, "x")).rejects.toThrow(`no open connection has uuid ${unknown}`);
    // The control API's answer for a uuid no process holds is one process's: 404, naming it.
    for (const verb of ["write", "writeclose"]) {
      const res = await fetch(`http://${control}/connections/${unknown}/${verb}`, { method: "POST", body: "x" });
      expect([res.status, await res.json()]).toEqual([404, { error: `no open connection has uuid ${unknown}` }]);
    }
    const closed = await fetch(`http://${control}/connections/${unknown}/close`, { method: "POST" });
    expect(closed.status).toBe(404);
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

  it("a stopped (SIGSTOP) server process fails only its part: the other's clients get the broadcast, listing and metrics answer", async () => {
    const opened = [];
    for (let i = 0; i < 4; i++) opened.push(await client());
    // The one to stop is one that served some of these: the primary hands connections out in turn.
    const served = (await workers()).workers.filter((w) => w.num_execs > 0).map((w) => parentPid(w.pid)!);
    const victim = served[0]!;
    const listedBefore = (await rpc.list("main")).connections.map((c) => c.uuid);
    const openedBefore = counter(await metrics(), "rr_tcp_connections_total", 'server="main"');
    process.kill(victim, "SIGSTOP");
    try {
      const [broadcast, listed, scraped, unknown] = await Promise.all([
        fetch(`http://${control}/servers/main/broadcast`, { method: "POST", body: "while one sleeps\r\n" }),
        fetch(`http://${control}/connections?server=main`),
        metrics(),
        fetch(`http://${control}/servers/chat/broadcast`, { method: "POST", body: "x" }),
      ]);
      // A name no server has is the caller's mistake, whether or not every process answered.
      expect(unknown.status).toBe(404);
      // What the live process did is the answer: fewer clients reached and listed, none lost from the counters.
      expect(broadcast.status).toBe(200);
      const { reached } = (await broadcast.json()) as { reached: number };
      const uuids = ConnectionList.fromJSON(await listed.json()).connections.map((c) => c.uuid);
      expect(uuids.length).toBeGreaterThan(0);
      expect(uuids.length).toBeLessThan(listedBefore.length);
      for (const uuid of uuids) expect(listedBefore).toContain(uuid);
      expect(reached).toBe(uuids.length);
      expect(counter(scraped, "rr_tcp_connections_total", 'server="main"')).toBeGreaterThanOrEqual(openedBefore);
      await cli.log((l) => l.msg === "server process " + String(l.process) + " failed broadcast", "the failure logged");
    } finally {
      process.kill(victim, "SIGCONT");
    }
    // Awake again, it carries out the broadcast it was sent: every client has it in the end.
    for (const { client: c } of opened) await c.receive("while one sleeps\r\n");
    for (const { client: c } of opened) c.socket.destroy();
  });

  it("a process that exits while a scrape waits for another is counted once, not twice", async () => {
    for (let i = 0; i < 4; i++) await client();
    const baseline = counter(await metrics(), "rr_tcp_connections_total", 'server="main"');
    const [first, second] = await serverProcesses();
    process.kill(second!, "SIGSTOP");
    let racing: number;
    try {
      const slow = metrics();
      // Time for the first to answer this scrape before it dies: the case where its answer and its
      // retired share would both be counted. Had it not answered, the total must be the same.
      await new Promise((resolve) => setTimeout(resolve, scaled(200)));
      process.kill(first!, "SIGKILL");
      await eventually(() => !alive(first!), { what: "the killed process gone" });
      racing = counter(await slow, "rr_tcp_connections_total", 'server="main"');
    } finally {
      process.kill(second!, "SIGCONT");
    }
    await eventually(async () => (await workers()).workers.length === 4 && (await serverProcesses()).size === 2, {
      what: "4 workers in 2 server processes again",
      timeout: 20_000,
    });
    // No new connection came: the total is the baseline, in the scrape that raced the exit and after.
    expect(racing).toBe(baseline);
    expect(counter(await metrics(), "rr_tcp_connections_total", 'server="main"')).toBe(baseline);
  });

  it("a connection on its way to a process that dies ends; none is left open with no one reading it", async () => {
    const [victim] = await serverProcesses();
    process.kill(victim!, "SIGSTOP");
    const opened: Client[] = [];
    try {
      // Taken in turn: the stopped process is given at least one, which it cannot take in.
      for (let i = 0; i < 4; i++) {
        const c = await openClient(portOf(servers.main!));
        clients.push(c);
        opened.push(c);
        c.socket.write(`on its way ${i}\r\n`);
      }
      // The live process serves the rest (the stopped one is passed over once it lags).
      await eventually(() => opened.some((c, i) => c.received() === `on its way ${i}\r\n`), {
        what: "the live process's clients echoed",
      });
    } finally {
      process.kill(victim!, "SIGKILL");
    }
    const ended = new Set<Client>();
    for (const c of opened) void c.closed.then(() => ended.add(c));
    // Each one served, or closed with the process that had it: none waits on a socket no one reads.
    await eventually(() => opened.every((c, i) => c.received() === `on its way ${i}\r\n` || ended.has(c)), {
      what: "every client served or closed",
      detail: () =>
        opened.map((c, i) => `${i}: ${JSON.stringify(c.received())} ${ended.has(c) ? "closed" : "open"}`).join("; "),
    });
    expect(opened.filter((c) => ended.has(c) && c.received() === "").length).toBeGreaterThan(0);
    await eventually(async () => (await workers()).workers.length === 4 && (await serverProcesses()).size === 2, {
      what: "4 workers in 2 server processes again",
      timeout: 20_000,
    });
  });

  it("a server process killed with SIGKILL is replaced; its workers do not outlive it; what it counted stays counted", async () => {
    for (let i = 0; i < 4; i++) await client();
    const state = await workers();
    const before = await serverProcesses();
    // One that served some of those connections, so its counters are not zero.
    const victim = parentPid(state.workers.find((w) => w.num_execs > 0)!.pid)!;
    const counted = await metrics();
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
    // Its share of the counters is kept: none went down; the primary counts the restart.
    const after = await metrics();
    for (const [name, labels] of [
      ["rr_tcp_connections_total", 'server="main"'],
      ["rr_tcp_events_total", 'server="main",event="connected"'],
      ["rr_tcp_bytes_received_total", 'server="main"'],
      ["rr_tcp_event_worker_seconds_count", 'server="main"'],
    ] as const) {
      expect(counter(after, name, labels), `${name}{${labels}}`).toBeGreaterThanOrEqual(
        counter(counted, name, labels) + 4,
      );
    }
    expect(counter(after, "rr_tcp_server_process_restarts_total", "")).toBe(
      counter(counted, "rr_tcp_server_process_restarts_total", "") + 1,
    );
    expect(counter(after, "rr_tcp_server_processes", "")).toBe(2);
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

/** The CLI's JSON log lines so far. */
const logLines = (run: Cli): Record<string, unknown>[] =>
  run
    .stderr()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("a server process that cannot start again", () => {
  /** How many of the CLI's log lines so far are a failed restart of a server process. */
  const failedRestarts = (run: Cli): number =>
    logLines(run).filter((l) => String(l.msg).includes("could not start again")).length;

  it(
    "is tried again with a growing delay until it starts; a stop while it waits stops everything",
    async () => {
      const config = join(dir, "restart.rr.yaml");
      writeFileSync(config, CONFIG);
      const failStart = join(dir, "fail-start");
      const run = runCli(["serve", "-c", config], dir);
      const line = await run.log((l) => String(l.msg).startsWith("control API listening"), "the control address");
      const ready = await run.log((l) => l.msg === "rr-tcp ready", "rr-tcp ready", 30_000);
      control = String(line.addr);
      const main = portOf((ready.servers as Record<string, string>).main!);
      try {
        // While its workers cannot start, neither can the replacement: it is tried again, and again.
        writeFileSync(failStart, "");
        const [first, other] = await serverProcesses();
        process.kill(first!, "SIGKILL");
        await eventually(() => failedRestarts(run) >= 2, { what: "two failed restarts", timeout: 20_000 });
        const index = logLines(run).find(
          (l) => l.process_pid === first && typeof l.restart_in_ms === "number",
        )!.process;
        const delays = logLines(run)
          .filter((l) => l.process === index && typeof l.restart_in_ms === "number")
          .map((l) => l.restart_in_ms as number);
        expect(delays.slice(0, 3)).toEqual([100, 200, 400].slice(0, Math.min(3, delays.length)));
        // The other one serves meanwhile.
        const served = await openClient(main);
        clients.push(served);
        served.socket.write("meanwhile\r\n");
        await served.receive("meanwhile\r\n");
        // With both down, a new client waits in the primary, and is served once one is up again.
        process.kill(other!, "SIGKILL");
        await eventually(async () => (await serverProcesses()).size === 0, { what: "no server process up" });
        const waiting = await openClient(main);
        clients.push(waiting);
        waiting.socket.write("waited\r\n");
        rmSync(failStart);
        await waiting.receive("waited\r\n", 30_000);
        await eventually(async () => (await serverProcesses()).size === 2 && (await workers()).workers.length === 4, {
          what: "both replacements up, with their 2 workers each",
          timeout: 30_000,
        });

        // A stop while a restart waits: exit 0 at once, nothing left running.
        writeFileSync(failStart, "");
        const pids = [...(await workers()).workers.map((w) => w.pid), ...(await serverProcesses())];
        const [second] = await serverProcesses();
        const failedBefore = failedRestarts(run);
        process.kill(second!, "SIGKILL");
        await eventually(() => failedRestarts(run) > failedBefore, { what: "a failed restart", timeout: 20_000 });
        run.child.kill("SIGTERM");
        const { code } = await run.exited;
        expect(code).toBe(0);
        await eventually(() => pids.every((pid) => !alive(pid)), { what: "no server process or worker left" });
        // The restart that was waiting started nothing once the stop began.
        const logged = logLines(run);
        const stop = logged.findIndex((l) => String(l.msg).startsWith("SIGTERM"));
        expect(stop).toBeGreaterThan(0);
        expect(
          logged.slice(stop).filter((l) => /^server process \d (ready|could not start)/.test(String(l.msg))),
        ).toEqual([]);
      } finally {
        rmSync(failStart, { force: true });
      }
      // Five starts of a server process with its workers, four of them failing: seconds each when loaded.
    },
    scaled(120_000),
  );
});

describe("connections made while the server processes start", () => {
  it("wait, and are spread over every process once all are up, not all given to the first one ready", async () => {
    const config = join(dir, "early.rr.yaml");
    writeFileSync(config, CONFIG);
    const run = runCli(["serve", "-c", config], dir);
    const line = await run.log(
      (l) => l.msg === "tcp server main listening on " + String(l.addr),
      "the listener",
      30_000,
    );
    // The primary listens before it forks: these come before any process is ready.
    const early: Client[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await openClient(portOf(String(line.addr)));
      clients.push(c);
      early.push(c);
      c.socket.write(`early ${i}\r\n`);
    }
    expect(logLines(run).some((l) => / ready$/.test(String(l.msg)))).toBe(false);
    for (const [i, c] of early.entries()) await c.receive(`early ${i}\r\n`, 30_000);
    const control = await run.log((l) => String(l.msg).startsWith("control API listening"), "the control address");
    const state = PoolState.fromJSON(await (await fetch(`http://${String(control.addr)}/workers`)).json());
    const served = new Set(state.workers.filter((w) => w.num_execs > 0).map((w) => parentPid(w.pid)));
    expect(served.size).toBe(2);
    run.child.kill("SIGTERM");
    expect((await run.exited).code).toBe(0);
  });
});
