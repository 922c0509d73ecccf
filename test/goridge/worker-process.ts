/**
 * Test support: starts test/goridge/fixtures/pid-worker.ts as a real child process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const WORKER = fileURLToPath(new URL("./fixtures/pid-worker.ts", import.meta.url));

/** Spawns the fixture worker with RR_RELAY set; stdio pipes, stderr kept for diagnostics. */
export function spawnWorker(relay: string, mode = "normal"): ChildProcess & { stderrText: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER], {
    env: { ...process.env, RR_RELAY: relay, TEST_MODE: mode },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return Object.assign(child, { stderrText: () => stderr });
}

/** Resolves when the child has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}
