import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { PoolError } from "../../src/pool/errors.js";
import type { WorkerPool } from "../../src/pool/worker-pool.js";
import { eventually } from "../fixtures/eventually.js";
import { captureLogs, event, isAlive, livePids, ms, parseReply, startPool } from "./helpers.js";

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

/** The statuses of the pool's workers, in start order. */
const statuses = (p: WorkerPool): WorkerStatus[] => p.state().workers.map((w) => w.status);

/**
 * True when the pool has exactly `n` workers and each is READY or WORKING: none starting, none
 * on its way out. The pool starts workers only as others start, stop or exit (or after a
 * backoff, which no test here triggers), so from then on its size holds.
 */
const settledAt = (p: WorkerPool, n: number): boolean => p.state().workers.length === n && livePids(p).length === n;

describe("destroy", () => {
  it("stops every worker with the stop command and leaves no child process behind", async () => {
    const logs = captureLogs();
    pool = await startPool({ num_workers: 3 }, { logger: logs.logger });
    await Promise.all(Array.from({ length: 6 }, () => pool!.exec(event("echo"))));
    const pids = livePids(pool);
    expect(pids).toHaveLength(3);
    const started = Date.now();
    await pool.destroy();
    // The fixture answers the stop command with a CLOSE frame, as the PHP worker does, and exits
    // at once: no kill needed, nothing logged as unexpected.
    expect(Date.now() - started).toBeLessThan(1_500);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(logs.records.filter((r) => r.level >= 40)).toEqual([]);
    expect(pool.state().workers).toEqual([]);
  });

  it("kills workers that ignore the stop command after destroy_timeout", async () => {
    pool = await startPool({ num_workers: 2, destroy_timeout: ms(400) }, { workerEnv: { WORKER_ON_STOP: "ignore" } });
    const pids = livePids(pool);
    const started = Date.now();
    await pool.destroy();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(2_000);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it("lets running events finish, fails waiting ones with POOL_CLOSED, refuses new ones", async () => {
    pool = await startPool({ num_workers: 1 });
    const running = pool.exec(event("sleep:300"));
    const waiting = pool.exec(event("echo"));
    // One event with the worker, one waiting for it.
    expect(statuses(pool)).toEqual([WorkerStatus.WORKING]);
    expect(pool.state().queued).toBe(1);
    const destroyed = pool.destroy();
    await expect(waiting).rejects.toMatchObject({ code: "POOL_CLOSED" });
    await expect(pool.exec(event("echo"))).rejects.toMatchObject({ code: "POOL_CLOSED" });
    const reply = await running;
    expect(parseReply(reply).body).toBe("sleep:300");
    await destroyed;
    expect(isAlive(reply.pid)).toBe(false);
  });

  it("fails events still running at destroy_timeout with POOL_CLOSED, and kills their workers", async () => {
    pool = await startPool({ num_workers: 1, destroy_timeout: ms(300) });
    const [pid] = livePids(pool) as [number];
    const hanging = pool.exec(event("hang")).catch((e: unknown) => e);
    expect(statuses(pool)).toEqual([WorkerStatus.WORKING]);
    await pool.destroy();
    const err = await hanging;
    expect(err).toBeInstanceOf(PoolError);
    expect(err).toMatchObject({ code: "POOL_CLOSED", pid, timeoutMs: 300 });
    expect(isAlive(pid)).toBe(false);
  });

  it("is idempotent", async () => {
    const logs = captureLogs();
    pool = await startPool({ num_workers: 2 }, { logger: logs.logger });
    const pids = livePids(pool);
    // Calls while a destroy runs share it; a call after it is done resolves at once.
    const first = pool.destroy();
    const second = pool.destroy();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await expect(pool.destroy()).resolves.toBeUndefined();
    expect(pool.destroy()).toBe(first);
    // One destroy happened: every worker gone, once, without a warning.
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(pool.state().workers).toEqual([]);
    expect(logs.records.filter((r) => r.msg === "worker pool destroyed")).toHaveLength(1);
    expect(logs.records.filter((r) => r.level >= 40)).toEqual([]);
    await expect(pool.exec(event("echo"))).rejects.toMatchObject({ code: "POOL_CLOSED" });
  });
});

describe("reset", () => {
  it("replaces every worker without failing any event", async () => {
    pool = await startPool({ num_workers: 2 });
    const old = livePids(pool);
    let stop = false;
    const failures: unknown[] = [];
    const seen = new Set<number>();
    const load = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (!stop) {
          try {
            seen.add((await pool!.exec(event("sleep:15"))).pid);
          } catch (err) {
            failures.push(err);
          }
        }
      }),
    );
    await eventually(() => old.every((pid) => seen.has(pid)), { what: "the old workers serving the load" });
    await pool.reset();
    const fresh = livePids(pool);
    await eventually(() => fresh.every((pid) => seen.has(pid)), { what: "the new workers serving the load" });
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(fresh).toHaveLength(2);
    for (const pid of fresh) expect(old).not.toContain(pid);
    for (const pid of old) expect(isAlive(pid)).toBe(false);
    for (const pid of fresh) expect(seen.has(pid)).toBe(true);
  });

  it("keeps the old workers when the new ones cannot start", async () => {
    const modeFile = join(mkdtempSync(join(tmpdir(), "rr-pool-")), "start-mode");
    writeFileSync(modeFile, "normal");
    pool = await startPool({ num_workers: 2 }, { workerEnv: { WORKER_START_FILE: modeFile } });
    const old = livePids(pool);
    writeFileSync(modeFile, "exit");
    await expect(pool.reset()).rejects.toMatchObject({ code: "SPAWN_FAILED" });
    writeFileSync(modeFile, "normal");
    expect(livePids(pool).sort()).toEqual([...old].sort());
    const replies = await Promise.all(Array.from({ length: 4 }, () => pool!.exec(event("sleep:20"))));
    for (const reply of replies) expect(old).toContain(reply.pid);
  });
});

describe("addWorker / removeWorker", () => {
  it("grows and shrinks the pool", async () => {
    pool = await startPool({ num_workers: 1 });
    await pool.addWorker();
    await pool.addWorker();
    expect(livePids(pool)).toHaveLength(3);
    await pool.removeWorker();
    // Gone once removeWorker resolves; and the pool does not replace a removed worker (a
    // replacement would be starting by now).
    expect(pool.state().workers).toHaveLength(2);
    expect(livePids(pool)).toHaveLength(2);
    const replies = await Promise.all(Array.from({ length: 4 }, () => pool!.exec(event("sleep:30"))));
    expect(new Set(replies.map((r) => r.pid)).size).toBe(2);
  });
});

describe("addWorker / removeWorker during a reset", () => {
  it.each([
    ["removeWorker", 3, 2],
    ["addWorker", 2, 3],
  ] as const)("%s while a reset runs: the pool ends at the new size", async (method, from, to) => {
    pool = await startPool({ num_workers: from });
    const reset = pool.reset();
    await pool[method]();
    await reset;
    await eventually(() => settledAt(pool!, to), { timeout: 3_000, what: `${to} workers, none starting or stopping` });
    expect(livePids(pool)).toHaveLength(to);
    expect(pool.state().workers).toHaveLength(to);
  });
});

describe("a worker that exits by itself", () => {
  it("takes the processes it started in its group with it", async () => {
    pool = await startPool({ num_workers: 1 });
    const reply = parseReply(await pool.exec(event("child")));
    const grandchild = Number(reply.body);
    expect(isAlive(grandchild)).toBe(true);
    await expect(pool.exec(event("exit"))).rejects.toMatchObject({ code: "WORKER_DIED", pid: reply.pid });
    // Dead, or a zombie waiting for init to reap it.
    const dead = (pid: number) => !isAlive(pid) || /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    await eventually(() => dead(grandchild), { what: "the worker's child gone" });
    expect(dead(grandchild)).toBe(true);
  });
});

describe("killBusyWorkers (a shutdown whose drain ran out)", () => {
  it("kills only the workers in an event, fails those events at once, and replaces the workers", async () => {
    pool = await startPool({ num_workers: 2 });
    const p = pool;
    const hung = p.exec(event("hang"));
    const rejected = hung.then(
      () => undefined,
      (e: unknown) => e,
    );
    await eventually(() => p.state().workers.some((w) => w.status === WorkerStatus.WORKING), {
      what: "a worker in the hanging event",
    });
    const hungPid = p.state().workers.find((w) => w.status === WorkerStatus.WORKING)!.pid;
    const idlePid = p.state().workers.find((w) => w.status === WorkerStatus.READY)!.pid;
    expect(p.killBusyWorkers("the drain ran out")).toBe(1);
    const err = (await rejected) as PoolError;
    expect(err).toBeInstanceOf(PoolError);
    expect(err.code).toBe("POOL_CLOSED");
    expect(err.pid).toBe(hungPid);
    await eventually(() => !isAlive(hungPid), { what: "the hung worker gone" });
    expect(isAlive(idlePid)).toBe(true);
    // Replaced while the pool runs: two ready workers again, and events are served.
    await eventually(() => livePids(p).length === 2 && !livePids(p).includes(hungPid), { what: "its replacement" });
    await expect(p.exec(event("echo"))).resolves.toBeDefined();
    expect(p.killBusyWorkers("nothing is busy")).toBe(0);
  });
});
