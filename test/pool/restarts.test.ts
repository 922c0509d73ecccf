/**
 * The pool's counts of replaced workers by cause (what `rr_tcp_worker_restarts_total{reason}`
 * shows), and the CPU figure informer.Workers reports: real fixture workers.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseStat } from "../../src/pool/process-cpu.js";
import type { WorkerPool } from "../../src/pool/worker-pool.js";
import { eventually } from "../fixtures/eventually.js";
import { event, failure, livePids, ms, startPool } from "./helpers.js";

let pool: WorkerPool | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Waits until the pool has counted `expected` (every cause not named is 0). */
async function restartsBecome(expected: Record<string, number>): Promise<void> {
  await eventually(() => JSON.stringify(sorted(pool!.restarts())) === JSON.stringify(sorted(expected)), {
    what: `restarts ${JSON.stringify(expected)}`,
    detail: () => `counted ${JSON.stringify(pool!.restarts())}`,
  });
}

function sorted(counts: Partial<Record<string, number>>): [string, number | undefined][] {
  return Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
}

describe("restarts", () => {
  it("counts every worker replaced after max_jobs once", async () => {
    pool = await startPool({ num_workers: 1, max_jobs: 1 });
    for (let i = 0; i < 3; i++) await pool.exec(event(`n${i}`));
    await restartsBecome({ max_jobs: 3 });
  });

  it("names each cause: exec_ttl, exited, stop_requested, protocol_error, reset; not removals or the pool's end", async () => {
    pool = await startPool({ num_workers: 1, supervisor: { exec_ttl: ms(300) } });
    expect(await failure(pool.exec(event("hang")))).toMatchObject({ code: "EXEC_TTL" });
    expect(await failure(pool.exec(event("exit")))).toMatchObject({ code: "WORKER_DIED" });
    // Asked to stop, the event runs again on the next worker, which answers it.
    await eventually(() => livePids(pool!).length === 1, { what: "a worker after the crash" });
    const [asker] = livePids(pool) as [number];
    expect((await pool.exec(event(`stopif:${asker}`))).pid).not.toBe(asker);
    expect(await failure(pool.exec(event("badcrc")))).toMatchObject({ code: "BAD_FRAME" });
    await eventually(() => livePids(pool!).length === 1, { what: "a worker after the bad frame" });
    await pool.reset();
    await restartsBecome({ exec_ttl: 1, exited: 1, stop_requested: 1, protocol_error: 1, reset: 1 });
    await pool.addWorker();
    await pool.removeWorker();
    await pool.destroy();
    expect(sorted(pool.restarts())).toEqual(
      sorted({ exec_ttl: 1, exited: 1, stop_requested: 1, protocol_error: 1, reset: 1 }),
    );
  });

  it("counts a worker killed from outside as exited, and its replacements that cannot start as start_failed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-pool-restarts-"));
    dirs.push(dir);
    const modeFile = join(dir, "start-mode");
    writeFileSync(modeFile, "normal");
    pool = await startPool({ num_workers: 1 }, { workerEnv: { WORKER_START_FILE: modeFile } });
    writeFileSync(modeFile, "exit");
    process.kill(livePids(pool)[0]!, "SIGKILL");
    await eventually(() => (pool!.restarts().start_failed ?? 0) >= 1, {
      what: "a replacement that failed to start",
      detail: () => JSON.stringify(pool!.restarts()),
    });
    expect(pool.restarts().exited).toBe(1);
  });
});

describe("cpuPercent", () => {
  it("is the CPU a live worker used over its life, in percent of a core; 0 for another pid", async () => {
    pool = await startPool({ num_workers: 1 });
    const [pid] = livePids(pool) as [number];
    // Starting node costs tens of milliseconds of CPU: more than nothing, less than every core.
    const percent = pool.cpuPercent(pid);
    expect(percent).toBeGreaterThan(0);
    expect(percent).toBeLessThanOrEqual(100 * 64);
    expect(pool.cpuPercent(process.pid)).toBe(0);
  });

  it("reads utime and stime after the command name, whatever the name holds", () => {
    const fields = (name: string) =>
      `4242 (${name}) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 1 0 12345 1000000 500 18446744073709551615`;
    expect(parseStat(fields("node"))).toBe(3);
    expect(parseStat(fields("a) (b c"))).toBe(3);
    expect(parseStat("garbage")).toBe(0);
  });
});
