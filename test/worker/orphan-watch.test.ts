/**
 * A worker whose server dies (SIGKILL, so it cannot stop its workers) exits even while a handler
 * awaits something long (src/worker/orphan-watch.ts). Real processes: a stand-in server spawns
 * the worker and is killed.
 */
import { spawn } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { eventually } from "../fixtures/eventually.js";
import { NODE_TSX } from "./harness.js";
import { isAlive } from "../fixtures/process-alive.js";

const WATCH = new URL("../../src/worker/orphan-watch.ts", import.meta.url).pathname;
// The worker: the watch, then an await of a minute, as a handler busy with a slow call.
const WORKER = `import { exitWhenOrphaned } from ${JSON.stringify(WATCH)}; exitWhenOrphaned(); console.log("busy"); await new Promise((r) => setTimeout(r, 60_000));`;
// The server: starts the worker, says its pid once the worker is busy, then waits to be killed.
const SERVER = `
const { spawn } = require("node:child_process");
const worker = spawn(${JSON.stringify(NODE_TSX[0])}, ${JSON.stringify([...NODE_TSX.slice(1), "--input-type=module", "-e", WORKER])}, { detached: true, stdio: ["ignore", "pipe", "inherit"] });
worker.stdout.once("data", () => console.log(worker.pid));
setInterval(() => {}, 1000);
`;

let pids: number[] = [];
afterEach(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  pids = [];
});

const alive = isAlive;

it("exits within a few checks once its server is killed, though a handler still awaits", async () => {
  const server = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  pids.push(server.pid!);
  const workerPid = await new Promise<number>((resolve) =>
    server.stdout.once("data", (d: Buffer) => resolve(Number(d.toString()))),
  );
  pids.push(workerPid);
  expect(alive(workerPid)).toBe(true);
  server.kill("SIGKILL");
  await eventually(() => !alive(workerPid), { timeout: 10_000, what: "the orphaned worker to exit" });
});
