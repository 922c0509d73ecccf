import { afterEach, describe, expect, it } from "vitest";
import type { WorkerPool } from "../../src/pool/worker-pool.js";
import { failure, event, isAlive, livePids, ms, parseReply, startPool, waitFor } from "./helpers.js";

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

describe("limits", () => {
  it("exec_ttl kills a worker that does not answer in time; the event fails with EXEC_TTL", async () => {
    pool = await startPool({ num_workers: 1, supervisor: { exec_ttl: ms(300) } });
    const { pid } = await pool.exec(event("echo"));
    const started = Date.now();
    const err = await failure(pool.exec(event("hang")));
    const took = Date.now() - started;
    expect(err).toMatchObject({ code: "EXEC_TTL", pid, timeoutMs: 300 });
    expect(err.message).toContain("exec_ttl 300 ms");
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2_000);
    await waitFor(() => !isAlive(pid), 2_000, "the hung worker to be killed");
    const next = await pool.exec(event("sleep:50"));
    expect(next.pid).not.toBe(pid);
  });

  it("max_jobs replaces a worker after that many events (plus RoadRunner's 0..14 % jitter), reply delivered", async () => {
    pool = await startPool({ num_workers: 1, max_jobs: 10 });
    const served = new Map<number, number>();
    const order: number[] = [];
    for (let i = 0; i < 45; i++) {
      const reply = await pool.exec(event(`n${i}`));
      expect(parseReply(reply).body).toBe(`n${i}`);
      served.set(reply.pid, (served.get(reply.pid) ?? 0) + 1);
      if (order.at(-1) !== reply.pid) order.push(reply.pid);
    }
    // Each worker served a contiguous run, then was replaced.
    expect(order.length).toBe(served.size);
    expect(served.size).toBeGreaterThanOrEqual(4);
    const counts = order.map((pid) => served.get(pid) as number);
    // 10 + floor(10 * p / 100) for p in 0..14: 10 or 11 events; the last worker is still running.
    for (const count of counts.slice(0, -1)) expect([10, 11]).toContain(count);
    await waitFor(() => order.slice(0, -1).every((pid) => !isAlive(pid)), 3_000, "replaced workers to exit");
  });

  it("max_worker_memory replaces a worker whose RSS grows past it", async () => {
    pool = await startPool({
      num_workers: 1,
      supervisor: { watch_tick: ms(100), max_worker_memory: 150 },
    });
    const { pid } = await pool.exec(event("grow:200"));
    await waitFor(() => !isAlive(pid), 3_000, "the grown worker to be replaced");
    await waitFor(() => livePids(pool!).length === 1, 2_000, "a replacement");
    const next = await pool.exec(event("echo"));
    expect(next.pid).not.toBe(pid);
    // A worker under the limit stays.
    const small = await pool.exec(event("grow:1"));
    await new Promise((r) => setTimeout(r, 350));
    expect((await pool.exec(event("echo"))).pid).toBe(small.pid);
  });

  it("a busy worker past a soft limit finishes its event before it is replaced", async () => {
    pool = await startPool({ num_workers: 1, supervisor: { watch_tick: ms(50), ttl: ms(200) } });
    const [pid] = livePids(pool) as [number];
    // Busy across several ticks past its ttl: the event still completes on it.
    const reply = await pool.exec(event("sleep:500"));
    expect(reply.pid).toBe(pid);
    await waitFor(() => !isAlive(pid), 2_000, "the old worker to exit");
    expect((await pool.exec(event("echo"))).pid).not.toBe(pid);
  });

  it("ttl replaces idle workers that are too old", async () => {
    pool = await startPool({ num_workers: 2, supervisor: { watch_tick: ms(50), ttl: ms(300) } });
    const first = livePids(pool);
    await waitFor(() => first.every((pid) => !isAlive(pid)), 3_000, "the first workers to be replaced");
    await waitFor(() => livePids(pool!).length === 2, 2_000, "replacements");
  });

  it("idle_ttl replaces workers idle too long, but only those that served an event", async () => {
    pool = await startPool({ num_workers: 2, supervisor: { watch_tick: ms(50), idle_ttl: ms(200) } });
    const { pid: used } = await pool.exec(event("echo"));
    const unused = livePids(pool).find((pid) => pid !== used)!;
    await waitFor(() => !isAlive(used), 3_000, "the used worker to be replaced");
    expect(isAlive(unused)).toBe(true);
    expect(livePids(pool)).toContain(unused);
  });

  it("allocate_timeout fails an event when every worker stays busy, naming the timeout", async () => {
    pool = await startPool({ num_workers: 1, allocate_timeout: ms(300) });
    const busy = pool.exec(event("sleep:1000"));
    const started = Date.now();
    const err = await failure(pool.exec(event("echo")));
    expect(err.code).toBe("NO_FREE_WORKERS");
    expect(err.timeoutMs).toBe(300);
    expect(err.message).toContain("allocate_timeout 300 ms");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await busy;
    expect(pool.state().queued).toBe(0);
  });

  it("an event waiting for a worker gets the first one that becomes free", async () => {
    pool = await startPool({ num_workers: 1, allocate_timeout: ms(2_000) });
    const busy = pool.exec(event("sleep:200"));
    const waiting = pool.exec(event("echo"));
    expect(pool.state().queued).toBe(1);
    const [a, b] = await Promise.all([busy, waiting]);
    expect(b.pid).toBe(a.pid);
  });

  it("max_queue_size counts events waiting or running; over it an event fails at once", async () => {
    pool = await startPool({ num_workers: 1, max_queue_size: 2 });
    const running = pool.exec(event("sleep:300"));
    const waiting = pool.exec(event("echo"));
    const started = Date.now();
    const err = await failure(pool.exec(event("echo")));
    expect(err.code).toBe("QUEUE_FULL");
    expect(err.message).toContain("max_queue_size 2");
    expect(Date.now() - started).toBeLessThan(100);
    await Promise.all([running, waiting]);
    // Room again once they are done.
    await expect(pool.exec(event("echo"))).resolves.toBeDefined();
  });
});
