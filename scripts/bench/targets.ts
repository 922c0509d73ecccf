/**
 * The servers the benchmark drives: the in-process Node echo server (the limit this runtime
 * allows) and rr-tcp itself, started through its CLI exactly as a user starts it (with the Node
 * flags `npm start` and the bin pass).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shareOf } from "../../src/config/index.js";
import { SERVER_NODE_FLAGS } from "../../src/service/node-flags.js";
import { waitForChildren } from "./proc.js";

export interface RunningTarget {
  port: number;
  /** The server's pid (for the in-process servers: this process). */
  pid: number;
  /** Every server process, when there are several (tcp.processes): the primary and its server processes. */
  serverPids?: number[];
  /** The worker processes' pids; none for the in-process echo. */
  workerPids: number[];
  stop(): Promise<void>;
}

/**
 * A target that is a child process: stopped with SIGTERM (its workers see their relay close and
 * exit), SIGKILL if it has not exited in 10 s, then `cleanup` (its temporary files).
 */
export function childTarget(child: ChildProcess, port: number, workerPids: number[], cleanup?: () => void): RunningTarget {
  return {
    port,
    pid: child.pid!,
    workerPids,
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      cleanup?.();
    },
  };
}

export async function startInProcessEcho(): Promise<RunningTarget> {
  const server: Server = createServer({ noDelay: true }, (socket) => {
    socket.on("data", (chunk) => socket.write(chunk));
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    pid: process.pid,
    workerPids: [],
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with code ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => { socket.destroy(); resolve(true); });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.spawnfile} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

export interface RrTcpTarget {
  /** The worker command, a list (no shell). */
  command: string[];
  numWorkers: number;
  contextCodec: "json" | "proto";
  /** What the workers get in their environment (server.env). */
  workerEnv?: Record<string, string>;
  /** tcp.processes; default 1. With more, `numWorkers` is the total over them. */
  processes?: number;
}

export async function startRrTcp(target: RrTcpTarget): Promise<RunningTarget> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-bench-"));
  const config = join(dir, ".rr.yaml");
  writeFileSync(
    config,
    [
      'version: "3"',
      "server:",
      `  command: ${JSON.stringify(target.command)}`,
      ...Object.entries(target.workerEnv ?? {}).map(([k, v], i) => `${i === 0 ? "  env:\n" : ""}    ${k}: ${JSON.stringify(v)}`),
      "logs:",
      "  level: warn",
      "tcp:",
      `  context_codec: ${target.contextCodec}`,
      `  processes: ${target.processes ?? 1}`,
      "  servers:",
      "    bench:",
      `      addr: 127.0.0.1:${port}`,
      '      delimiter: "\\r\\n"',
      "  pool:",
      `    num_workers: ${target.numWorkers}`,
      "    allocate_timeout: 60s",
      "    destroy_timeout: 5s",
      "",
    ].join("\n"),
  );
  const root = new URL("../../", import.meta.url).pathname;
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", join(root, "src/cli.ts"), "serve", "-c", config], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  let workerPids: number[];
  let serverPids: number[] | undefined;
  const processes = target.processes ?? 1;
  try {
    await waitForPort(port, child, 30_000);
    if (processes === 1) workerPids = await waitForChildren(child.pid!, target.numWorkers);
    else {
      // The primary's children are its server processes; the workers are theirs.
      const members = await waitForChildren(child.pid!, processes);
      serverPids = [child.pid!, ...members];
      workerPids = (
        await Promise.all(members.map((pid, i) => waitForChildren(pid, shareOf(target.numWorkers, i, processes))))
      ).flat();
    }
  } catch (err) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const running = childTarget(child, port, workerPids, () => rmSync(dir, { recursive: true, force: true }));
  return serverPids === undefined ? running : { ...running, serverPids };
}
