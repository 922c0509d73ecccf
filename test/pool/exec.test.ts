import { afterEach, describe, expect, it } from "vitest";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { RR_VERSION } from "../../src/pool/worker-env.js";
import type { WorkerPool } from "../../src/pool/worker-pool.js";
import { eventually } from "../fixtures/eventually.js";
import { captureLogs, event, isAlive, parseReply, startPool } from "./helpers.js";

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

describe("exec", () => {
  it("spreads events over every worker, one event at a time per worker", async () => {
    pool = await startPool({ num_workers: 3 });
    const workerPids = pool.state().workers.map((w) => w.pid);
    expect(workerPids).toHaveLength(3);

    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) => pool!.exec(event(`sleep:${20 + (i % 3) * 5}`))),
    );
    const byPid = new Map<number, number>();
    for (const reply of replies) {
      expect(reply.context.toString()).toBe("WRITE");
      // The fixture prefixes "CONCURRENT:" once it ever saw a second request before replying.
      expect(reply.body.toString()).not.toMatch(/^CONCURRENT:/);
      const { pid } = parseReply(reply);
      expect(reply.pid).toBe(pid);
      byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
    }
    expect([...byPid.keys()].sort()).toEqual([...workerPids].sort());
    for (const count of byPid.values()) expect(count).toBeGreaterThanOrEqual(5);

    const state = pool.state();
    expect(state.queued).toBe(0);
    expect(state.workers.reduce((n, w) => n + w.num_execs, 0)).toBe(30);
    for (const w of state.workers) {
      expect(w.status).toBe(WorkerStatus.READY);
      expect(w.age?.seconds ?? 0).toBeGreaterThanOrEqual(0);
      expect(w.rss_bytes).toBeGreaterThan(1024 * 1024);
    }
  });

  it("hands idle workers out longest idle first", async () => {
    // Without the hold after replies (the fixture does not echo event ids): a worker still
    // runnable after its reply on a loaded machine rejoins the idle list late, which is the
    // hold's point and not this test's.
    pool = await startPool({ num_workers: 3, trust_replies: true });
    const order: number[] = [];
    for (let i = 0; i < 6; i++) order.push((await pool.exec(event("echo"))).pid);
    expect(new Set(order.slice(0, 3)).size).toBe(3);
    expect(order.slice(3)).toEqual(order.slice(0, 3));
  });

  it("routes to the preferred worker when it is idle (sticky), else to any idle worker", async () => {
    pool = await startPool({ num_workers: 3 });
    const first = await pool.exec(event("echo"));
    for (let i = 0; i < 5; i++) {
      expect((await pool.exec(event("echo", first.pid))).pid).toBe(first.pid);
    }
    const busy = pool.exec(event("sleep:300", first.pid));
    const other = await pool.exec(event("echo", first.pid));
    expect(other.pid).not.toBe(first.pid);
    expect((await busy).pid).toBe(first.pid);
  });

  it("sends large bodies intact, context and body split as the worker sent them", async () => {
    pool = await startPool({ num_workers: 1 });
    const big = "x".repeat(3 * 1024 * 1024);
    const reply = await pool.exec(event(big));
    expect(parseReply(reply).body).toBe(big);
    expect(reply.context.toString()).toBe("WRITE");
  });

  it("gives workers RR_RELAY, RR_RPC, server env, RR_VERSION and RR_MODE=tcp", async () => {
    pool = await startPool(
      { num_workers: 1 },
      { workerEnv: { RR_RPC: "tcp://127.0.0.1:6001", TEST_ENV_GREETING: "hello", RR_MODE: "overridden?" } },
    );
    const env = JSON.parse((await pool.exec(event("env"))).body.toString()) as Record<string, string>;
    expect(env).toMatchObject({
      RR_RELAY: "pipes",
      RR_RPC: "tcp://127.0.0.1:6001",
      TEST_ENV_GREETING: "hello",
      RR_VERSION,
      RR_MODE: "tcp",
    });
  });

  it("logs a worker's stderr as records of the lines written together, tagged with its pid, without holding an endless line", async () => {
    const logs = captureLogs();
    pool = await startPool({ num_workers: 1 }, { logger: logs.logger });
    const { pid } = await pool.exec(event("log:first line\nsecond line"));
    const long = "y".repeat(40_000);
    await pool.exec(event(`log:${long}`));
    await eventually(() => logs.records.filter((r) => r.stream === "stderr").length >= 4, {
      timeout: 2_000,
      what: "stderr records",
    });
    const stderr = logs.records.filter((r) => r.stream === "stderr");
    // One write of two lines: one record.
    expect(stderr[0]).toMatchObject({ workerPid: pid, msg: "first line\nsecond line" });
    // 40 000 bytes without a newline are logged in pieces of at most 16 KiB, each its own record.
    const pieces = stderr.slice(1).map((r) => r.msg);
    expect(pieces.join("")).toBe(long);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(16 * 1024);
  });

  it("reports every worker in state() and none after destroy", async () => {
    pool = await startPool({ num_workers: 2 });
    const pids = pool.state().workers.map((w) => w.pid);
    expect(pids.every((pid) => pid > 0 && isAlive(pid))).toBe(true);
    await pool.destroy();
    expect(pool.state().workers).toEqual([]);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
