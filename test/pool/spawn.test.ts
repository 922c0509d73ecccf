import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PoolError } from "../../src/pool/errors.js";
import { WorkerPool } from "../../src/pool/worker-pool.js";
import { eventually } from "../fixtures/eventually.js";
import { FakeClock } from "./fake-clock.js";
import {
  captureLogs,
  event,
  failure,
  isAlive,
  livePids,
  ms,
  NODE,
  parseReply,
  startPool,
  WORKER,
  type LogCapture,
} from "./helpers.js";

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

async function startFailure(promise: Promise<unknown>): Promise<PoolError> {
  const err = await promise.then(
    (p) => {
      pool = p as WorkerPool;
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PoolError);
  return err as PoolError;
}

type LogRecord = LogCapture["records"][number];

/** The pool's "failed start" records so far, oldest first. */
function startFailures(logs: LogCapture): LogRecord[] {
  return logs.records.filter((r) => r.level === 50 && String(r.msg).includes("failed start"));
}

/**
 * Drives the respawn backoff on `clock` through `budgetMs` of the pool's time, from the first
 * failed start on: after each failure, nothing new starts until its delay (`retryInMs`) is over,
 * and one attempt starts the moment it is; then waits for that attempt to fail too. `survivors`
 * workers keep running throughout; `between` runs after each failure (events on them, say).
 * Returns every failure seen; the next attempt is then pending, due in the last one's delay.
 */
async function driveBackoff(
  pool: WorkerPool,
  clock: FakeClock,
  logs: LogCapture,
  budgetMs: number,
  { survivors = 0, between }: { survivors?: number; between?: () => Promise<void> } = {},
): Promise<LogRecord[]> {
  await eventually(() => startFailures(logs).length > 0, { what: "the first failed start" });
  let elapsed = 0;
  for (;;) {
    const seen = startFailures(logs);
    await between?.();
    expect(pool.state().workers).toHaveLength(survivors);
    const delay = seen.at(-1)!.retryInMs as number;
    if (elapsed + delay > budgetMs) return seen;
    clock.advance(delay - 1);
    expect(pool.state().workers).toHaveLength(survivors);
    clock.advance(1);
    elapsed += delay;
    expect(pool.state().workers).toHaveLength(survivors + 1);
    await eventually(() => startFailures(logs).length === seen.length + 1, {
      what: `failed start ${seen.length + 1}`,
    });
  }
}

describe("starting workers", () => {
  it("a command that does not exist: one clear SPAWN_FAILED naming the command", async () => {
    const logs = captureLogs();
    const clock = new FakeClock();
    const started = Date.now();
    const err = await startFailure(
      WorkerPool.start({
        command: ["/no/such/worker-binary", "--serve"],
        pool: { num_workers: 2 },
        logger: logs.logger,
        clock,
      }),
    );
    expect(err.code).toBe("SPAWN_FAILED");
    expect(err.command).toBe("/no/such/worker-binary --serve");
    expect(err.message).toContain('"/no/such/worker-binary --serve"');
    expect(err.message).toContain("ENOENT");
    expect(Date.now() - started).toBeLessThan(2_000);
    // No retry loop behind the failed start: nothing is scheduled, nothing failed again.
    expect(clock.pending()).toEqual([]);
    expect(logs.records.filter((r) => r.level >= 50)).toEqual([]);
  });

  it("a command that exits at once: SPAWN_FAILED naming the command, its exit code and its last words", async () => {
    const err = await startFailure(startPool({ num_workers: 2 }, { workerEnv: { WORKER_START: "exit" } }));
    expect(err.code).toBe("SPAWN_FAILED");
    expect(err.message).toContain(`"${NODE} ${WORKER}"`);
    expect(err.message).toContain("exited with code 3 before the pid handshake");
    expect(err.message).toContain("cannot boot, config missing");
    expect(err.exitCode).toBe(3);
  });

  it("a worker that never answers the pid request: SPAWN_FAILED naming allocate_timeout; nothing left running", async () => {
    const logs = captureLogs();
    const err = await startFailure(
      startPool(
        { num_workers: 2, allocate_timeout: ms(400) },
        { workerEnv: { WORKER_START: "silent" }, logger: logs.logger },
      ),
    );
    expect(err.code).toBe("SPAWN_FAILED");
    expect(err.timeoutMs).toBe(400);
    expect(err.message).toContain("within allocate_timeout 400 ms");
    expect(err.pid).toBeGreaterThan(0);
    expect(isAlive(err.pid!)).toBe(false);
  });

  it("a worker that prints text instead of answering: SPAWN_FAILED quoting what it printed", async () => {
    const err = await startFailure(startPool({ num_workers: 1 }, { workerEnv: { WORKER_START: "print" } }));
    expect(err.code).toBe("SPAWN_FAILED");
    expect(err.message).toContain("failed the pid handshake");
    expect(err.message).toContain("Fatal error");
  });

  it("an empty command is refused before anything runs", async () => {
    const err = await startFailure(WorkerPool.start({ command: [], pool: {} }));
    expect(err.code).toBe("BAD_OPTIONS");
  });

  it("replacements that keep failing at start are retried with a growing delay, then the pool recovers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-pool-"));
    const modeFile = join(dir, "start-mode");
    writeFileSync(modeFile, "normal");
    const logs = captureLogs();
    const clock = new FakeClock();
    pool = await startPool(
      { num_workers: 1, allocate_timeout: ms(1_000) },
      {
        workerEnv: { WORKER_START_FILE: modeFile },
        logger: logs.logger,
        respawnBackoff: { initialMs: 50, maxMs: 400 },
        clock,
      },
    );
    // It served an event, so its death is not a failed start; its replacements' are.
    const { pid: first } = await pool.exec(event("echo"));

    writeFileSync(modeFile, "exit");
    process.kill(first, "SIGKILL");
    // 1.5 s of the pool's time.
    const failures = await driveBackoff(pool, clock, logs, 1_500);
    // 50, 100, 200, 400, 400 ... ms: a handful of attempts in 1.5 s, not hundreds.
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.length).toBeLessThanOrEqual(8);
    const delays = failures.map((r) => r.retryInMs as number);
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
    expect(Math.max(...delays)).toBe(400);
    // Attempts at 0, 50, 150, 350, 750 and 1150 ms; the next is due at 1550.
    expect(delays).toEqual([50, 100, 200, 400, 400, 400]);
    expect(failures[0]?.msg).toContain("exited with code 3 before the pid handshake");
    expect(failures[0]?.msg).toContain(`"${NODE} ${WORKER}"`);

    // Events wait for a worker meanwhile; once the command works again, the pool heals.
    writeFileSync(modeFile, "normal");
    const reply = pool.exec(event("echo"));
    clock.advance(delays.at(-1)!);
    expect(parseReply(await reply).body).toBe("echo");
  });

  it.each([
    ["dies right after its handshake", "die-after-handshake", "exited with code 0 right after its pid handshake"],
    // A PHP notice printed while idle: the worker is killed for it, before serving anything.
    [
      "is killed for text on stdout right after its handshake",
      "notice-after-handshake",
      "was killed because it sent a bad frame right after its pid handshake",
    ],
  ])("a worker that %s counts as a failed start (no tight respawn loop)", async (_what, mode, message) => {
    const dir = mkdtempSync(join(tmpdir(), "rr-pool-"));
    const modeFile = join(dir, "start-mode");
    writeFileSync(modeFile, "normal");
    const logs = captureLogs();
    const clock = new FakeClock();
    pool = await startPool(
      { num_workers: 1 },
      {
        workerEnv: { WORKER_START_FILE: modeFile },
        logger: logs.logger,
        respawnBackoff: { initialMs: 100, maxMs: 800 },
        clock,
      },
    );
    writeFileSync(modeFile, mode);
    process.kill((await pool.exec(event("echo"))).pid, "SIGKILL");
    // 1.2 s of the pool's time: attempts at 0, 100, 300 and 700 ms.
    const failures = await driveBackoff(pool, clock, logs, 1_200);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.length).toBeLessThanOrEqual(6);
    expect(failures.map((r) => r.retryInMs)).toEqual([100, 200, 400, 800]);
    expect(failures[0]?.msg).toContain(message);
    writeFileSync(modeFile, "normal");
    const reply = pool.exec(event("echo"));
    clock.advance(800);
    await expect(reply).resolves.toBeDefined();
  });

  it("a worker that dies during its very first event counts as a failed start (no crash loop at full speed)", async () => {
    const logs = captureLogs();
    const clock = new FakeClock();
    pool = await startPool(
      { num_workers: 1 },
      { logger: logs.logger, respawnBackoff: { initialMs: 100, maxMs: 800 }, clock },
    );
    // A worker that cannot read its events: each one dies on the first it is given.
    for (const [i, delay] of [100, 200, 400].entries()) {
      await eventually(() => livePids(pool!).length === 1, { what: `worker ${i + 1} ready` });
      const err = await failure(pool.exec(event("exit")));
      expect(err.code).toBe("WORKER_DIED");
      // Reported with the worker's exit, before the event failed.
      const failures = startFailures(logs);
      expect(failures).toHaveLength(i + 1);
      expect(failures[i]?.retryInMs).toBe(delay);
      expect(failures[i]?.msg).toContain(`(pid ${err.pid}) exited with code 1 during its first event`);
      // Its replacement waits for the backoff.
      expect(pool.state().workers).toEqual([]);
      clock.advance(delay - 1);
      expect(pool.state().workers).toEqual([]);
      clock.advance(1);
      expect(pool.state().workers).toHaveLength(1);
    }
    // A worker that does serve its first event is not a failed start.
    await expect(pool.exec(event("echo"))).resolves.toBeDefined();
    expect(startFailures(logs)).toHaveLength(3);
  });

  it("a worker idle for long that then dies during its first event still waits for the backoff", async () => {
    const logs = captureLogs();
    const clock = new FakeClock();
    // maxMs 10 s: the 2 s of idling below stay inside one series of failures (2 x the cap).
    pool = await startPool(
      { num_workers: 1 },
      { logger: logs.logger, respawnBackoff: { initialMs: 100, maxMs: 10_000 }, clock },
    );
    let spawned = 1;
    for (const [i, delay] of [100, 200, 400].entries()) {
      await eventually(() => livePids(pool!).length === 1, { what: `worker ${i + 1} ready` });
      // Idle longer than the early-exit window after its handshake: only its first event shows
      // that it cannot read events.
      clock.advance(2_000);
      const err = await failure(pool.exec(event("exit")));
      expect(err.code).toBe("WORKER_DIED");
      const failures = startFailures(logs);
      expect(failures).toHaveLength(i + 1);
      expect(failures[i]?.retryInMs).toBe(delay);
      expect(failures[i]?.msg).toContain(`(pid ${err.pid}) exited with code 1 during its first event`);
      // Nothing is spawned until the delay is over, then exactly one.
      expect(pool.state().workers).toEqual([]);
      clock.advance(delay - 1);
      expect(pool.state().workers).toEqual([]);
      clock.advance(1);
      expect(pool.state().workers).toHaveLength(1);
      spawned++;
    }
    expect(spawned).toBe(4);
  });

  it("a worker that answers its first events only with ERROR frames and then dies counts as a failed start", async () => {
    const logs = captureLogs();
    const clock = new FakeClock();
    pool = await startPool(
      { num_workers: 1 },
      { logger: logs.logger, respawnBackoff: { initialMs: 100, maxMs: 10_000 }, clock },
    );
    await eventually(() => livePids(pool!).length === 1, { what: "the worker ready" });
    // It reads events, but cannot serve them: two ERROR frames, then it dies on the third.
    expect((await failure(pool.exec(event("error:cannot parse")))).code).toBe("WORKER_ERROR");
    expect((await failure(pool.exec(event("error:cannot parse")))).code).toBe("WORKER_ERROR");
    clock.advance(2_000);
    const err = await failure(pool.exec(event("exit")));
    expect(err.code).toBe("WORKER_DIED");
    const failures = startFailures(logs);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.retryInMs).toBe(100);
    expect(failures[0]?.msg).toContain(`(pid ${err.pid}) exited with code 1 within its first 3 events, answering none`);
    expect(pool.state().workers).toEqual([]);
    clock.advance(100);
    expect(pool.state().workers).toHaveLength(1);
  });

  it("a worker that served an event and then dies is replaced at once", async () => {
    const logs = captureLogs();
    const clock = new FakeClock();
    pool = await startPool({ num_workers: 1 }, { logger: logs.logger, clock });
    await eventually(() => livePids(pool!).length === 1, { what: "the worker ready" });
    await expect(pool.exec(event("echo"))).resolves.toBeDefined();
    expect((await failure(pool.exec(event("exit")))).code).toBe("WORKER_DIED");
    // No backoff: its replacement is already starting (or started), with no clock moved.
    await eventually(() => pool!.state().workers.length === 1, { what: "the replacement" });
    expect(startFailures(logs)).toEqual([]);
  });

  it("old workers serving events do not reset the backoff while new ones fail to start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-pool-"));
    const modeFile = join(dir, "start-mode");
    writeFileSync(modeFile, "normal");
    const logs = captureLogs();
    const clock = new FakeClock();
    pool = await startPool(
      { num_workers: 2 },
      {
        workerEnv: { WORKER_START_FILE: modeFile },
        logger: logs.logger,
        respawnBackoff: { initialMs: 100, maxMs: 3_200 },
        clock,
      },
    );
    // The workers have been serving a while when the deploy breaks.
    clock.advance(1_000);
    // A broken deploy: new workers cannot start, the surviving one keeps serving.
    writeFileSync(modeFile, "exit");
    const [victim, survivor] = livePids(pool) as [number, number];
    process.kill(victim, "SIGKILL");
    await eventually(() => !livePids(pool!).includes(victim), {
      timeout: 2_000,
      what: "the killed worker gone from the pool",
    });
    // 1.6 s of the pool's time, the survivor serving events after every failure.
    const failures = await driveBackoff(pool, clock, logs, 1_600, {
      survivors: 1,
      between: async () => {
        for (let i = 0; i < 3; i++) expect((await pool!.exec(event("sleep:10"))).pid).toBe(survivor);
      },
    });
    // 100, 200, 400, 800 ms: about 4 in 1.6 s; each event resetting it would make it ~15.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.length).toBeLessThanOrEqual(6);
    expect(failures.map((r) => r.retryInMs)).toEqual([100, 200, 400, 800, 1_600]);
    writeFileSync(modeFile, "normal");
    clock.advance(1_600);
    await eventually(() => livePids(pool!).length === 2, { what: "the pool healed" });
  });

  it("a slow start within allocate_timeout is fine", async () => {
    pool = await startPool(
      { num_workers: 2, allocate_timeout: ms(2_000) },
      { workerEnv: { WORKER_START: "slow:300" } },
    );
    expect(livePids(pool)).toHaveLength(2);
  });
});

describe("debug mode", () => {
  it("runs every event on a fresh worker and stops it after its reply", async () => {
    pool = await startPool({ debug: true, num_workers: 4 });
    expect(pool.state().workers).toEqual([]);
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) pids.push((await pool.exec(event("echo"))).pid);
    expect(new Set(pids).size).toBe(3);
    await eventually(() => pids.every((pid) => !isAlive(pid)), { timeout: 3_000, what: "debug workers to exit" });
    const parallel = await Promise.all([pool.exec(event("sleep:100")), pool.exec(event("sleep:100"))]);
    expect(parallel[0].pid).not.toBe(parallel[1].pid);
  });

  it("fails the event with SPAWN_FAILED when the fresh worker cannot start", async () => {
    pool = await startPool({ debug: true }, { workerEnv: { WORKER_START: "exit" } });
    const err = await pool.exec(event("echo")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolError);
    expect((err as PoolError).code).toBe("SPAWN_FAILED");
  });
});
