/**
 * What the cluster tests start: a real redis-server on a free loopback port, real rr-tcp
 * instances (`rr-tcp serve` as child processes, so one can be SIGKILLed), and line clients.
 * Everything started is listed, so that `stopAll()` (afterAll) ends it even after a failure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { eventually, within } from "../fixtures/eventually.js";
import { freePort } from "../fixtures/free-port.js";
import { runCli, type Cli } from "../integration/cli-harness.js";
import { ROOT, TSX_LOADER } from "../integration/harness.js";

export const CLUSTER_WORKER = join(ROOT, "test", "fixtures", "cluster-worker.ts");
export const CLUSTER_WORKER_CMD = `${process.execPath} --import ${TSX_LOADER} ${CLUSTER_WORKER}`;

const children: ChildProcess[] = [];
const clis: Cli[] = [];
const dirs: string[] = [];
const sockets: Socket[] = [];
const redisClients: Redis[] = [];

/** A scratch directory, removed by stopAll. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-cluster-"));
  dirs.push(dir);
  return dir;
}

/** Starts a child process that stopAll SIGKILLs. */
export function startChild(command: string, args: string[], cwd?: string): ChildProcess {
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  (child as ChildProcess & { output: () => string }).output = () => output;
  children.push(child);
  return child;
}

/** The output a child started by startChild wrote so far. */
export function outputOf(child: ChildProcess): string {
  return (child as ChildProcess & { output?: () => string }).output?.() ?? "";
}

/** A redis-server on a free loopback port, no persistence; resolves once it answers PING. */
export async function startRedis(): Promise<{ url: string; port: number; client: Redis }> {
  const port = await freePort();
  const child = startChild("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on("error", () => undefined);
  redisClients.push(client);
  await eventually(
    async () => {
      try {
        if (client.status !== "ready") await client.connect().catch(() => undefined);
        return (await client.ping()) === "PONG";
      } catch {
        return false;
      }
    },
    { timeout: 10_000, what: `redis-server on port ${port} to answer PING`, detail: () => outputOf(child) },
  );
  return { url, port, client };
}

export interface Instance {
  cli: Cli;
  name: string;
  rpc: string;
  /** The control API's address, when the config has control.addr. */
  control: string | undefined;
  port: (server: string) => number;
}

/** Writes `yaml` to a scratch dir and runs `rr-tcp serve` on it; resolves once it logged "rr-tcp ready". */
export async function startInstance(name: string, yaml: string, env: NodeJS.ProcessEnv = {}): Promise<Instance> {
  const dir = scratchDir();
  const file = join(dir, ".rr.yaml");
  writeFileSync(file, yaml);
  const cli = runCli(["serve", "-c", file], dir, env);
  clis.push(cli);
  const ready = await cli.log((line) => line.msg === "rr-tcp ready", `instance ${name} ready`, 30_000);
  const rpcLine = await cli.log(
    (line) => typeof line.addr === "string" && /^RPC/.test(String(line.msg)),
    "RPC address",
  );
  const servers = ready.servers as Record<string, string>;
  // Logged before "rr-tcp ready" when configured.
  const control = cli
    .stderr()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => String(line.msg).startsWith("control API listening"))?.addr;
  return {
    cli,
    name,
    rpc: String(rpcLine.addr),
    control: control === undefined ? undefined : String(control),
    port: (server) => Number(servers[server]!.split(":").pop()),
  };
}

/** A line client: what it received, its lines, a promise of its close. */
export interface LineClient {
  socket: Socket;
  received(): string;
  lines(): string[];
  closed: Promise<void>;
  /** Resolves with the first received line matching `pattern`. */
  line(pattern: RegExp, what: string, ms?: number): Promise<RegExpExecArray>;
}

export async function lineClient(port: number, host = "127.0.0.1"): Promise<LineClient> {
  const socket = connect({ port, host });
  sockets.push(socket);
  let data = "";
  socket.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    }),
    { what: `a connection to port ${port}` },
  );
  const lines = () => data.split("\r\n").slice(0, -1);
  return {
    socket,
    received: () => data,
    lines,
    closed,
    async line(pattern, what, ms = 10_000) {
      let found: RegExpExecArray | null = null;
      await eventually(
        () => {
          for (const l of lines()) {
            found = pattern.exec(l);
            if (found) return true;
          }
          return false;
        },
        { timeout: ms, what, detail: () => `received ${JSON.stringify(data.slice(-300))}` },
      );
      return found!;
    },
  };
}

/** Ends every process, socket, Redis client and scratch dir the tests started. */
export async function stopAll(): Promise<void> {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const client of redisClients.splice(0)) client.disconnect();
  const ending: Promise<unknown>[] = [];
  for (const cli of clis.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill("SIGKILL");
      ending.push(cli.exited);
    }
  }
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      ending.push(new Promise((resolve) => child.once("exit", resolve)));
      child.kill("SIGKILL");
    }
  }
  await Promise.race([Promise.all(ending), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
