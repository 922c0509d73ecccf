/**
 * The `rr-tcp` command as users run it: a child process, real signals, real sockets.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killRunningClis, runCli, type Cli } from "./cli-harness.js";
import pino from "pino";
import { loadConfigFile, parseConfig } from "../../src/config/index.js";
import { WorkerPool } from "../../src/pool/index.js";
import { SCHEMA_PACKAGE, SCHEMA_VERSION } from "../../src/protocol/index.js";
import { Service } from "../../src/service/service.js";
import { DUPLICATE_SIGNAL_WINDOW_MS } from "../../src/service/signals.js";
import { eventually, scaled, within } from "../fixtures/eventually.js";
import { openClient } from "../server/harness.js";
import {
  RECORDING_WORKER,
  RECORDING_WORKER_CMD,
  ROOT,
  startService,
  tempRecording,
  TSX_LOADER,
  type Recording,
} from "./harness.js";

afterEach(killRunningClis);

/** Starts `serve -c` on a config written to a temp dir; resolves once it is ready. */
async function serveConfig(
  yaml: string,
): Promise<{ cli: Cli; recording: Recording; port: (server: string) => number; cleanup: () => void }> {
  const { dir, recording, cleanup } = tempRecording();
  const file = join(dir, ".rr.yaml");
  writeFileSync(file, yaml);
  const cli = runCli(["serve", "-c", file], dir, { WORKER_CMD: RECORDING_WORKER_CMD, RECORD_FILE: recording.file });
  const ready = await cli.log((line) => line.msg === "rr-tcp ready", "rr-tcp ready");
  const servers = ready.servers as Record<string, string>;
  return { cli, recording, cleanup, port: (server) => Number(servers[server]!.split(":").pop()) };
}

const SERVE_CONFIG = `
version: "3"
server:
  command: \${WORKER_CMD}
  env: [{ RECORD_FILE: "\${RECORD_FILE}" }]
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
  pool:
    num_workers: 2
    destroy_timeout: 10s
logs:
  level: debug
`;

describe("rr-tcp serve", () => {
  it("SIGTERM: stops accepting, finishes the busy event, closes every connection with CLOSE, exits 0", async () => {
    const { cli, recording, port, cleanup } = await serveConfig(SERVE_CONFIG);
    try {
      const idle = await openClient(port("main"));
      const idleUuid = await recording.uuidOf(idle.socket.localPort);
      const busy = await openClient(port("main"));
      const busyUuid = await recording.uuidOf(busy.socket.localPort);
      busy.socket.write("slow:700\r\n");
      await recording.until((all) => all.some((r) => r.uuid === busyUuid && r.event === "DATA"), "the slow DATA event");
      cli.child.kill("SIGTERM");
      await within(busy.ended, { timeout: 10_000, what: "FIN to the busy client" });
      expect(busy.received()).toBe("slow:700\r\n");
      await within(idle.ended, { timeout: 10_000, what: "FIN to the idle client" });
      expect(await within(cli.exited, { timeout: 15_000, what: "rr-tcp to exit" })).toEqual({ code: 0, signal: null });
      expect(recording.log(idleUuid)).toEqual(["CONNECTED", "CLOSE"]);
      expect(recording.log(busyUuid)).toEqual(["CONNECTED", "DATA:slow:700\r\n", "CLOSE"]);
      // The debug log has one line per connection open and close.
      expect(cli.stderr().match(/"msg":"connection opened"/g)).toHaveLength(2);
      expect(cli.stderr().match(/"msg":"connection closed"/g)).toHaveLength(2);
      await expect(openClient(port("main"))).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      cleanup();
    }
  });

  it("a second signal exits at once", async () => {
    const { cli, recording, port, cleanup } = await serveConfig(SERVE_CONFIG);
    try {
      const client = await openClient(port("main"));
      const uuid = await recording.uuidOf(client.socket.localPort);
      client.socket.write("hang\r\n");
      await recording.until((all) => all.some((r) => r.uuid === uuid && r.event === "DATA"), "the hanging DATA event");
      cli.child.kill("SIGTERM");
      await cli.log((line) => line.signal === "SIGTERM", "the shutdown log line");
      // Sooner, it would count as the first signal delivered twice (a terminal's Ctrl-C under npm).
      await new Promise((r) => setTimeout(r, DUPLICATE_SIGNAL_WINDOW_MS));
      const start = Date.now();
      cli.child.kill("SIGINT");
      expect(await within(cli.exited, { timeout: 5_000, what: "rr-tcp to exit" })).toEqual({ code: 1, signal: null });
      expect(Date.now() - start).toBeLessThan(scaled(3_000));
    } finally {
      cleanup();
    }
  });

  it("without -c: one server on 127.0.0.1:7000 with echo workers (what npm start runs), from any cwd", async () => {
    await assertPortFree(7000);
    const { dir, cleanup } = tempRecording();
    try {
      const cli = runCli(["serve"], dir);
      const ready = await cli.log((line) => line.msg === "rr-tcp ready", "rr-tcp ready");
      expect(ready.servers).toEqual({ main: "127.0.0.1:7000" });
      await helloQuit(7000);
      // The README's own client lines, with the machine's nc (Debian's OpenBSD nc in CI).
      for (const [line, expected] of readmeNcExamples()) {
        expect(await sh(line, 15_000)).toEqual({ code: 0, stdout: expected });
      }
      cli.child.kill("SIGTERM");
      expect(await within(cli.exited, { timeout: 15_000, what: "rr-tcp to exit" })).toEqual({ code: 0, signal: null });
    } finally {
      cleanup();
    }
  });

  /**
   * `npm start` in its own process group, as a terminal runs it (Ctrl-C is SIGINT to the group),
   * once rr-tcp said it is ready.
   */
  async function npmStart() {
    await assertPortFree(7000);
    const npm = spawn("npm", ["start"], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    npm.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)));
    const group = npm.pid!;
    const groupAlive = (): boolean => {
      try {
        process.kill(-group, 0);
        return true;
      } catch {
        return false;
      }
    };
    const started = {
      npm,
      group,
      groupAlive,
      output: () => output,
      exited: () => within(exited, { timeout: 15_000, what: "npm start to exit", detail: () => `output:\n${output}` }),
      cleanup: () => groupAlive() && process.kill(-group, "SIGKILL"),
    };
    const ready = () => output.includes('"msg":"rr-tcp ready"');
    try {
      await eventually(() => ready() || npm.exitCode !== null, {
        timeout: 20_000,
        what: "npm start to get ready",
        detail: () => `output:\n${output}`,
      });
      if (!ready()) throw new Error(`npm start exited before it got ready:\n${output}`);
    } catch (err) {
      started.cleanup();
      throw err;
    }
    return started;
  }

  it("`npm start` itself (package.json's start script): hello, quit; Ctrl-C stops every process it started", async () => {
    const started = await npmStart();
    try {
      await helloQuit(7000);
      process.kill(-started.group, "SIGINT");
      await started.exited();
      expect(started.output()).toContain('"msg":"rr-tcp stopped"');
      // rr-tcp and npm are gone; the workers (their own process groups) were stopped by rr-tcp.
      await eventually(() => !started.groupAlive(), { what: "every process of npm start's group gone" });
      expect(started.groupAlive()).toBe(false);
      await assertPortFree(7000);
    } finally {
      started.cleanup();
    }
  });

  it("`npm start` under a process manager: SIGTERM to npm alone stops rr-tcp gracefully, nothing left behind", async () => {
    const started = await npmStart();
    try {
      await helloQuit(7000);
      started.npm.kill("SIGTERM"); // npm's pid only, as systemd or a container runtime would
      await started.exited();
      expect(started.output()).toContain('"msg":"rr-tcp stopped"');
      await assertPortFree(7000);
    } finally {
      started.cleanup();
    }
  });

  it("refuses to start on a bad config, naming the key, exit 1", async () => {
    const { dir, cleanup } = tempRecording();
    try {
      const file = join(dir, "bad.yaml");
      writeFileSync(
        file,
        "server: { command: x }\ntcp:\n  servers:\n    main: { addr: 127.0.0.1:0 }\n  pool: { allocate_timeout: abc }\n",
      );
      const cli = runCli(["serve", "-c", file], dir);
      expect((await within(cli.exited, { timeout: 15_000, what: "exit" })).code).toBe(1);
      expect(cli.stderr()).toContain('tcp.pool.allocate_timeout: "abc" is not a duration (e.g. 60s, 1m30s)');
    } finally {
      cleanup();
    }
  });
});

describe("rr-tcp validate, --version, --help", () => {
  it("prints RoadRunner's fixture resolved, exit 0", async () => {
    const cli = runCli(["validate", "-c", join(ROOT, "test", "fixtures", "roadrunner-tcp.rr.yaml")], ROOT);
    expect((await within(cli.exited, { timeout: 15_000, what: "exit" })).code).toBe(0);
    const resolved = parseConfig(cli.stdout(), { env: {} }).config;
    expect(Object.keys(resolved.tcp!.servers)).toEqual(["smtp", "monolog", "custom"]);
    expect(resolved.tcp!.servers.custom!.delimiter).toBe("--end--");
    expect(cli.stdout()).toContain('delimiter: "\\r\\n"');
  });

  it("prints every error with its key path, exit 1", async () => {
    const { dir, cleanup } = tempRecording();
    try {
      const file = join(dir, "bad.yaml");
      writeFileSync(file, "tcp:\n  servers:\n    main: {}\n  read_buf_size: 0.5\n");
      const cli = runCli(["validate", "-c", file], dir);
      expect((await within(cli.exited, { timeout: 15_000, what: "exit" })).code).toBe(1);
      expect(cli.stderr()).toContain("tcp.servers.main.addr: missing");
      expect(cli.stderr()).toContain("tcp.read_buf_size: must be a non-negative integer (MB), got 0.5");
      expect(cli.stderr()).toContain("server.command: missing");
      expect(cli.stdout()).toBe("");
    } finally {
      cleanup();
    }
  });

  it("--version and --help", async () => {
    const version = runCli(["--version"], ROOT);
    expect((await within(version.exited, { timeout: 15_000, what: "exit" })).code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(version.stdout().trim()).toBe(`rr-tcp ${pkg.version} (schema ${SCHEMA_PACKAGE} ${SCHEMA_VERSION})`);
    const help = runCli(["serve", "--help"], ROOT);
    expect((await within(help.exited, { timeout: 15_000, what: "exit" })).code).toBe(0);
    expect(help.stdout()).toMatch(/-c, --config <file>/);
    expect(help.stdout()).toMatch(/--log-level <level>/);
  });
});

describe("RoadRunner's documented TCP config", () => {
  it("loads as is (warning only for the per-server read_buf_size of older docs) and runs", async () => {
    const text = readFileSync(join(ROOT, "test", "fixtures", "roadrunner-docs-tcp.rr.yaml"), "utf8");
    const asIs = parseConfig(text, { env: {} });
    expect(Object.keys(asIs.config.tcp!.servers)).toEqual(["smtp", "server2", "server3"]);
    expect(asIs.warnings.map((w) => w.path)).toEqual(["tcp.servers.server3.read_buf_size"]);
    // The same file with free loopback ports and a TypeScript worker instead of PHP.
    const runnable = text
      .replace(/tcp:\/\/127\.0\.0\.1:\d+/g, "tcp://127.0.0.1:0")
      .replace('command: "php tcp-worker.php"', 'command: "${WORKER_CMD}"\n  env: { RECORD_FILE: "${RECORD_FILE}" }')
      .replace("num_workers: 5", "num_workers: 2");
    const rr = await startService(runnable);
    try {
      for (const server of ["smtp", "server2", "server3"]) {
        const client = await openClient(rr.port(server));
        const uuid = await rr.recording.uuidOf(client.socket.localPort);
        client.socket.write(`HELO ${server}\r\n`);
        await client.receive(`HELO ${server}\r\n`);
        client.socket.end();
        await within(client.ended, { what: "FIN" });
        await rr.recording.until((all) => all.some((r) => r.uuid === uuid && r.event === "CLOSE"), "CLOSE");
        expect(rr.recording.log(uuid)).toEqual(["CONNECTED", `DATA:HELO ${server}\r\n`, "CLOSE"]);
        expect(rr.recording.all().find((r) => r.uuid === uuid)!.server).toBe(server);
      }
    } finally {
      await rr.stop();
    }
  });
});

describe("relative paths in a config file", () => {
  it("a relative worker command runs in the config file's directory", async () => {
    const { dir, recording, cleanup } = tempRecording();
    try {
      // ./worker.mts exists only next to the config file, not in the test's cwd.
      writeFileSync(join(dir, "worker.mts"), `import ${JSON.stringify(RECORDING_WORKER)};\n`);
      const file = join(dir, ".rr.yaml");
      writeFileSync(
        file,
        `server:\n  command: "${process.execPath} --import ${TSX_LOADER} ./worker.mts"\n  env: { RECORD_FILE: "${recording.file}" }\n` +
          `tcp:\n  servers:\n    main: { addr: "127.0.0.1:0" }\n  pool: { num_workers: 1 }\n`,
      );
      const loaded = await loadConfigFile(file, { env: {} });
      expect(loaded.baseDir).toBe(dir);
      const service = await Service.start(loaded, pino({ level: "silent" }), (options) => WorkerPool.start(options));
      try {
        const client = await openClient(Number(service.server.addresses().main!.split(":").pop()));
        client.socket.end("relative\r\n");
        await within(client.ended, { what: "FIN" });
        expect(client.received()).toBe("relative\r\n");
      } finally {
        await service.stop();
      }
    } finally {
      cleanup();
    }
  });
});

/** The README's `printf ... | nc ...` lines and what it says each prints. */
function readmeNcExamples(): Array<[string, string]> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const found = [...readme.matchAll(/`(printf '(\w+)\\r\\n' \| nc [^`]+)` prints `(\w+)`/g)].map(
    (m): [string, string] => [m[1]!, `${m[3]!}\r\n`],
  );
  expect(found.map(([, out]) => out)).toEqual(["hello\r\n", "bye\r\n"]);
  return found;
}

/** Runs a shell line to its end (killed after `ms`, scaled): its exit code and stdout. */
function sh(line: string, ms: number): Promise<{ code: number | null; stdout: string }> {
  const child = spawn("sh", ["-c", line], { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.once("close", (code) => resolve({ code, stdout })),
  );
  return within(done, {
    timeout: ms,
    what: `\`${line}\` to exit`,
    detail: () => `printed so far: ${JSON.stringify(stdout)}`,
  }).finally(() => child.kill("SIGKILL"));
}

/** Issue 6's client: `hello` comes back; `quit` gets `bye` and a closed connection. */
async function helloQuit(port: number): Promise<void> {
  const client = await openClient(port);
  client.socket.write("hello\r\n");
  await client.receive("hello\r\n");
  client.socket.write("quit\r\n");
  await within(client.ended, { what: "the connection closed after quit" });
  expect(client.received()).toBe("hello\r\nbye\r\n");
}

/** Fails with a clear message when something already listens on 127.0.0.1:`port`. */
async function assertPortFree(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === "EADDRINUSE"
            ? `127.0.0.1:${port} is busy: this test runs the built-in default config, which listens there; stop whatever holds the port and run again`
            : `cannot probe 127.0.0.1:${port}: ${err.message}`,
        ),
      ),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}
