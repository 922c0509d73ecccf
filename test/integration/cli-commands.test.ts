/**
 * `rr-tcp` as RoadRunner users drive `rr`: which config and directory `serve` picks, `-o`,
 * `-w`, `--dotenv`, and the commands that call a running server over RPC (workers, reset,
 * connections, close); SIGQUIT, and a second signal with a busy worker. Real processes, real
 * sockets on loopback.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DUPLICATE_SIGNAL_WINDOW_MS, killProcessGroups, parentPid } from "../../src/service/signals.js";
import { eventually, scaled, within } from "../fixtures/eventually.js";
import { freePort } from "../fixtures/free-port.js";
import { openClient } from "../server/harness.js";
import { killRunningClis, runCli, runCliToEnd, type Cli } from "./cli-harness.js";
import { RECORDING_WORKER, RECORDING_WORKER_CMD, ROOT, tempRecording, TSX_LOADER, type Recording } from "./harness.js";
import { isAlive } from "../fixtures/process-alive.js";

afterEach(killRunningClis);

const FIXTURES = join(ROOT, "test", "fixtures");

/** Each test starts a server and several short `rr-tcp` processes, a second or more each under load. */
const COMMAND_TEST_TIMEOUT = scaled(90_000);

const CONFIG = (rpc: string) => `
version: "3"
rpc:
  listen: ${rpc}
server:
  command: \${WORKER_CMD}
  env: { RECORD_FILE: "\${RECORD_FILE}" }
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
  pool:
    num_workers: 2
    destroy_timeout: 20s
`;

interface Served {
  cli: Cli;
  dir: string;
  recording: Recording;
  port(server: string): number;
  /** The RPC address the server listens on. */
  rpc: string;
  cleanup(): void;
}

/** Writes `yaml` as ./.rr.yaml of a temp dir and runs `rr-tcp serve ...args` there. */
async function serveIn(yaml: string, args: string[] = []): Promise<Served> {
  const { dir, recording, cleanup } = tempRecording();
  writeFileSync(join(dir, ".rr.yaml"), yaml);
  const cli = runCli(["serve", ...args], dir, { WORKER_CMD: RECORDING_WORKER_CMD, RECORD_FILE: recording.file });
  const rpcLine = await cli.log(
    (line) => typeof line.msg === "string" && line.msg.startsWith("RPC listening"),
    "RPC up",
  );
  const ready = await cli.log((line) => line.msg === "rr-tcp ready", "rr-tcp ready");
  const servers = ready.servers as Record<string, string>;
  return {
    cli,
    dir,
    recording,
    rpc: rpcLine.addr as string,
    port: (server) => Number(servers[server]!.split(":").pop()),
    cleanup,
  };
}

/** The PID column of `rr-tcp workers`' table. */
function tablePids(table: string): number[] {
  return table
    .split("\n")
    .filter((line) => /^\d+\s/.test(line))
    .map((line) => Number(line.split(/\s+/)[0]));
}

const alive = isAlive;

async function echoes(port: number, text: string): Promise<void> {
  const client = await openClient(port);
  client.socket.write(`${text}\r\n`);
  await client.receive(`${text}\r\n`);
  client.socket.destroy();
}

describe("rr-tcp serve: which config, which directory", { timeout: COMMAND_TEST_TIMEOUT }, () => {
  it("without -c reads ./.rr.yaml in the working directory, and says so; --log-level; SIGQUIT alone drains, exit 0", async () => {
    const served = await serveIn(CONFIG("tcp://127.0.0.1:0"), ["--log-level", "debug"]);
    try {
      const start = await served.cli.log((line) => line.config !== undefined, "the starting line");
      expect(start.msg).toMatch(/found in the working directory/);
      expect(start.config).toBe(join(served.dir, ".rr.yaml"));
      await echoes(served.port("main"), "from ./.rr.yaml");
      // Debug lines, which the config's default level (info) would not show.
      await served.cli.log((line) => line.level === 20 && line.msg === "connection opened", "a debug line");
      served.cli.child.kill("SIGQUIT");
      expect(await within(served.cli.exited, { what: "rr-tcp to exit" })).toEqual({ code: 0, signal: null });
    } finally {
      served.cleanup();
    }
  });

  it("-o overrides a nested key (tcp.pool.num_workers) and a map entry (tcp.servers.extra.addr)", async () => {
    const served = await serveIn(CONFIG("tcp://127.0.0.1:0"), [
      "-o",
      "tcp.pool.num_workers=3",
      "-o",
      "tcp.servers.extra.addr=127.0.0.1:0",
    ]);
    try {
      const workers = await runCliToEnd(["workers", "--rpc", served.rpc], served.dir);
      expect(workers.code).toBe(0);
      expect(tablePids(workers.stdout)).toHaveLength(3);
      await echoes(served.port("extra"), "on the server -o added");
      await echoes(served.port("main"), "on the file's server");
    } finally {
      served.cleanup();
    }
  });

  it("-w sets the working directory (relative -c, worker command and --dotenv resolve there)", async () => {
    const { dir, recording, cleanup } = tempRecording();
    try {
      mkdirSync(join(dir, "conf"));
      // ./worker.mts exists only in the working directory, not next to the config file.
      writeFileSync(join(dir, "worker.mts"), `import ${JSON.stringify(RECORDING_WORKER)};\n`);
      // GREETING_PORT is also set in the environment: that one wins, as with RoadRunner's godotenv
      // (port 1 would fail: only root may bind it).
      writeFileSync(join(dir, "app.env"), `RECORD_FILE=${recording.file}\nGREETING_PORT=1\n`);
      writeFileSync(
        join(dir, "conf", "rr.yaml"),
        `server:\n  command: "${process.execPath} --import ${TSX_LOADER} ./worker.mts"\n  env: { RECORD_FILE: "\${RECORD_FILE}" }\n` +
          `tcp:\n  servers:\n    main: { addr: "127.0.0.1:\${GREETING_PORT}" }\n  pool: { num_workers: 1 }\n`,
      );
      const cli = runCli(["serve", "-w", dir, "-c", "conf/rr.yaml", "--dotenv", "app.env"], "/", {
        GREETING_PORT: "0",
      });
      const ready = await cli.log((line) => line.msg === "rr-tcp ready", "rr-tcp ready");
      const port = Number((ready.servers as Record<string, string>).main!.split(":").pop());
      await echoes(port, "in the working directory");
      await recording.until(
        (all) => all.some((r) => r.event === "DATA"),
        "the DATA event, recorded via --dotenv's RECORD_FILE",
      );
    } finally {
      cleanup();
    }
  });
});

describe("rr-tcp validate and usage errors", { timeout: COMMAND_TEST_TIMEOUT }, () => {
  it("a RoadRunner config with status, metrics, logs channels, on_init and other plugins validates", async () => {
    const result = await runCliToEnd(["validate", "-c", join(FIXTURES, "roadrunner-full.rr.yaml")], "/");
    expect(result.code).toBe(0);
    // Warnings only, one per ignored thing.
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.filter((line) => !line.startsWith("warning: "))).toEqual([]);
    expect(result.stderr).toContain("sections of other RoadRunner plugins ignored: http, jobs, kv");
    expect(result.stdout).toMatch(/^status:\n {2}address: 127\.0\.0\.1:2114/m);
  });

  it("a typo through -o fails as in the file: its path and the closest key, exit 1", async () => {
    const result = await runCliToEnd(
      ["validate", "-c", join(FIXTURES, "roadrunner-tcp.rr.yaml"), "-o", "tcp.pool.num_worker=2"],
      "/",
    );
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toMatch(/tcp\.pool\.num_worker: unknown key \(did you mean num_workers\?\)/);
  });

  it("no config, a missing -w folder, an unreadable --dotenv: exit 1, each named", async () => {
    const { dir, cleanup } = tempRecording();
    try {
      const none = await runCliToEnd(["validate"], dir);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain(`${join(dir, ".rr.yaml")}: cannot read the configuration: no such file`);
      const workdir = await runCliToEnd(["validate", "-w", join(dir, "nowhere")], dir);
      expect(workdir.code).toBe(1);
      expect(workdir.stderr).toContain(`-w ${join(dir, "nowhere")}: cannot use it as the working directory`);
      const dotenv = await runCliToEnd(["validate", "--dotenv", "missing.env"], dir);
      expect(dotenv.code).toBe(1);
      expect(dotenv.stderr).toContain("--dotenv missing.env: cannot load it");
    } finally {
      cleanup();
    }
  });
});

describe("rr-tcp commands over RPC", { timeout: COMMAND_TEST_TIMEOUT }, () => {
  it("workers: a table of the live pids (rpc.listen read from ./.rr.yaml)", async () => {
    const port = await freePort();
    const served = await serveIn(CONFIG(`tcp://127.0.0.1:${port}`));
    try {
      const workers = await runCliToEnd(["workers"], served.dir);
      expect(workers.stderr).toBe("");
      expect(workers.code).toBe(0);
      const lines = workers.stdout.split("\n");
      expect(lines[0]).toBe("Workers of [tcp]:");
      expect(lines[1]!.split(/\s+/)).toEqual(["PID", "STATUS", "EXECS", "MEMORY", "CPU%", "CREATED"]);
      const pids = tablePids(workers.stdout);
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(parentPid(pid)).toBe(served.cli.child.pid);
      for (const line of lines.slice(2, 4))
        expect(line).toMatch(/^\d+\s+ready\s+0\s+[\d.]+ [kMG]?B\s+\d+\.\d\d\s+\d+ (second|minute)s? ago$/);
      // rr's plugin arguments: "tcp" is the one plugin; another name is refused.
      expect(tablePids((await runCliToEnd(["workers", "tcp"], served.dir)).stdout).sort()).toEqual([...pids].sort());
      const other = await runCliToEnd(["workers", "http"], served.dir);
      expect(other).toMatchObject({ code: 1, stdout: "" });
      expect(other.stderr).toContain('no such plugin: http (rr-tcp runs only "tcp")');
      const json = await runCliToEnd(["workers", "--json", "--rpc", served.rpc], served.dir);
      const listed = (JSON.parse(json.stdout) as { workers: { pid: number }[] }).workers.map((w) => w.pid);
      expect(listed.sort()).toEqual([...pids].sort());
    } finally {
      served.cleanup();
    }
  });

  it("reset: every pid changes while a client stays connected", async () => {
    const served = await serveIn(CONFIG("tcp://127.0.0.1:0"));
    try {
      const before = tablePids((await runCliToEnd(["workers", "--rpc", served.rpc], served.dir)).stdout);
      const client = await openClient(served.port("main"));
      client.socket.write("before\r\n");
      await client.receive("before\r\n");
      const reset = await runCliToEnd(["reset", "--rpc", served.rpc], served.dir);
      expect(reset.code).toBe(0);
      expect(reset.stdout).toMatch(/^tcp: every worker replaced/);
      const after = tablePids((await runCliToEnd(["workers", "--rpc", served.rpc], served.dir)).stdout);
      expect(after).toHaveLength(before.length);
      expect(after.filter((pid) => before.includes(pid))).toEqual([]);
      client.socket.write("after\r\n");
      await client.receive("before\r\nafter\r\n");
      const uuid = await served.recording.uuidOf(client.socket.localPort);
      const pidsServing = new Set(
        served.recording
          .all()
          .filter((r) => r.uuid === uuid && r.event === "DATA")
          .map((r) => r.pid),
      );
      expect([...pidsServing].some((pid) => after.includes(pid))).toBe(true);
    } finally {
      served.cleanup();
    }
  });

  it("connections lists the client; close UUID ends it with its CLOSE event; an unknown uuid is refused", async () => {
    const served = await serveIn(CONFIG("tcp://127.0.0.1:0"));
    try {
      const client = await openClient(served.port("main"));
      const uuid = await served.recording.uuidOf(client.socket.localPort);
      const listed = await runCliToEnd(["connections", "--json", "--rpc", served.rpc], served.dir);
      expect(listed.code).toBe(0);
      const connections = (JSON.parse(listed.stdout) as { connections: Record<string, unknown>[] }).connections;
      expect(connections).toHaveLength(1);
      expect(connections[0]).toMatchObject({
        uuid,
        server: "main",
        remoteAddr: `127.0.0.1:${client.socket.localPort}`,
      });
      const table = await runCliToEnd(["connections", "--rpc", served.rpc], served.dir);
      expect(table.stdout).toContain(uuid);
      const closed = await runCliToEnd(["close", uuid, "--rpc", served.rpc], served.dir);
      expect(closed).toMatchObject({ code: 0, stdout: `closed ${uuid}\n` });
      await within(client.ended, { what: "the closed connection's FIN" });
      await served.recording.until((all) => all.some((r) => r.uuid === uuid && r.event === "CLOSE"), "CLOSE");
      const unknown = await runCliToEnd(["close", uuid, "--rpc", served.rpc], served.dir);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain(`no open connection has uuid ${uuid}`);
    } finally {
      served.cleanup();
    }
  });

  it("without rpc.listen or --rpc: exit 1, saying which key to set", async () => {
    const { dir, cleanup } = tempRecording();
    try {
      writeFileSync(
        join(dir, ".rr.yaml"),
        `server: { command: "x" }\ntcp: { servers: { main: { addr: "127.0.0.1:0" } } }\n`,
      );
      const result = await runCliToEnd(["workers"], dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/has no rpc\.listen.*--rpc/);
    } finally {
      cleanup();
    }
  });
});

describe("signals", { timeout: COMMAND_TEST_TIMEOUT }, () => {
  it("SIGQUIT drains as SIGTERM; a second signal kills a busy worker's process group and exits 1", async () => {
    const served = await serveIn(CONFIG("tcp://127.0.0.1:0"));
    let pids: number[] = [];
    try {
      pids = tablePids((await runCliToEnd(["workers", "--rpc", served.rpc], served.dir)).stdout);
      const client = await openClient(served.port("main"));
      const uuid = await served.recording.uuidOf(client.socket.localPort);
      client.socket.write("spin\r\n");
      const spinning = await served.recording.until(
        (all) => all.find((r) => r.uuid === uuid && r.event === "DATA")?.pid,
        "the spinning DATA event",
      );
      served.cli.child.kill("SIGQUIT");
      await served.cli.log((line) => line.signal === "SIGQUIT", "the shutdown log line");
      // Draining waits for the busy event, which never ends.
      expect(alive(spinning)).toBe(true);
      // Sooner, it would count as the first signal delivered twice (a terminal's Ctrl-C under npm).
      await new Promise((r) => setTimeout(r, DUPLICATE_SIGNAL_WINDOW_MS));
      served.cli.child.kill("SIGQUIT");
      expect(await within(served.cli.exited, { what: "rr-tcp to exit" })).toEqual({ code: 1, signal: null });
      await eventually(() => pids.every((pid) => !alive(pid)), {
        what: `every worker, the spinning pid ${spinning} too, to be gone`,
      });
    } finally {
      // A failed run must not leave the spinning worker burning a core.
      killProcessGroups(pids);
      served.cleanup();
    }
  });
});
