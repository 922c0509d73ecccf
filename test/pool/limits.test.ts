import { afterEach, describe, expect, it } from "vitest";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import type { WorkerPool } from "../../src/pool/worker-pool.js";
import { eventually } from "../fixtures/eventually.js";
import { FakeClock } from "./fake-clock.js";
import { failure, event, isAlive, livePids, ms, parseReply, startPool } from "./helpers.js";

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
    await eventually(() => !isAlive(pid), { timeout: 2_000, what: "the hung worker to be killed" });
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
    await eventually(() => order.slice(0, -1).every((pid) => !isAlive(pid)), {
      timeout: 3_000,
      what: "replaced workers to exit",
    });
  });

  it("max_worker_memory replaces a worker whose RSS grows past it", async () => {
    const clock = new FakeClock();
    pool = await startPool({ num_workers: 1, supervisor: { watch_tick: ms(100), max_worker_memory: 150 } }, { clock });
    const { pid } = await pool.exec(event("grow:200"));
    clock.advance(100);
    await eventually(() => !isAlive(pid), { timeout: 3_000, what: "the grown worker to be replaced" });
    await eventually(() => livePids(pool!).length === 1, { timeout: 2_000, what: "a replacement" });
    const next = await pool.exec(event("echo"));
    expect(next.pid).not.toBe(pid);
    // A worker under the limit stays: the next watch_tick reads its RSS and leaves it be.
    const small = await pool.exec(event("grow:1"));
    const rss = (): number => pool!.state().workers.find((w) => w.pid === small.pid)?.rss_bytes ?? 0;
    expect(rss()).toBe(0);
    clock.advance(100);
    await eventually(() => rss() > 0, { what: "a watch_tick that read its RSS" });
    expect((await pool.exec(event("echo"))).pid).toBe(small.pid);
  });

  it("a busy worker past a soft limit finishes its event before it is replaced", async () => {
    const clock = new FakeClock();
    pool = await startPool({ num_workers: 1, supervisor: { watch_tick: ms(50), ttl: ms(200) } }, { clock });
    const [pid] = livePids(pool) as [number];
    const busy = pool.exec(event("sleep:500"));
    // Busy across several ticks past its ttl: the event still completes on it.
    clock.advance(200);
    await eventually(() => pool!.state().workers[0]!.rss_bytes > 0, { what: "a watch_tick" });
    for (let i = 0; i < 3; i++) clock.advance(50);
    expect(pool.state().workers.map((w) => [w.pid, w.status])).toEqual([[pid, WorkerStatus.WORKING]]);
    const reply = await busy;
    expect(reply.pid).toBe(pid);
    await eventually(() => !isAlive(pid), { timeout: 2_000, what: "the old worker to exit" });
    expect((await pool.exec(event("echo"))).pid).not.toBe(pid);
  });

  it("ttl replaces idle workers that are too old", async () => {
    const clock = new FakeClock();
    pool = await startPool({ num_workers: 2, supervisor: { watch_tick: ms(50), ttl: ms(300) } }, { clock });
    const first = livePids(pool);
    expect(first).toHaveLength(2);
    // Not yet at 250 ms: a watch_tick reads them (their RSS shows it) and leaves them be.
    clock.advance(250);
    await eventually(() => pool!.state().workers.every((w) => w.rss_bytes > 0), { what: "a watch_tick" });
    expect(livePids(pool)).toEqual(first);
    // Their age reaches ttl at the watch_tick of 300 ms; the replacements, younger, stay.
    clock.advance(50);
    await eventually(() => first.every((pid) => !isAlive(pid)), {
      timeout: 3_000,
      what: "the first workers to be replaced",
    });
    await eventually(() => livePids(pool!).length === 2, { timeout: 2_000, what: "replacements" });
    for (const pid of livePids(pool)) expect(first).not.toContain(pid);
  });

  it("idle_ttl replaces workers idle too long, but only those that served an event", async () => {
    pool = await startPool({ num_workers: 2, supervisor: { watch_tick: ms(50), idle_ttl: ms(200) } });
    const { pid: used } = await pool.exec(event("echo"));
    const unused = livePids(pool).find((pid) => pid !== used)!;
    await eventually(() => !isAlive(used), { timeout: 3_000, what: "the used worker to be replaced" });
    expect(isAlive(unused)).toBe(true);
    expect(livePids(pool)).toContain(unused);
  });

  it("allocate_timeout fails an event when every worker stays busy, naming the timeout", async () => {
    // allocate_timeout is also the start's deadline: on the fake clock a slow machine does not
    // make the pool fail to start.
    const clock = new FakeClock();
    pool = await startPool({ num_workers: 1, allocate_timeout: ms(300) }, { clock });
    const busy = pool.exec(event("sleep:1000"));
    const waiting = failure(pool.exec(event("echo")));
    expect(pool.state().workers.map((w) => w.status)).toEqual([WorkerStatus.WORKING]);
    // Still waiting 1 ms before allocate_timeout; failed when it runs out.
    clock.advance(299);
    expect(pool.state().queued).toBe(1);
    clock.advance(1);
    expect(pool.state().queued).toBe(0);
    const err = await waiting;
    expect(err.code).toBe("NO_FREE_WORKERS");
    expect(err.timeoutMs).toBe(300);
    expect(err.message).toContain("allocate_timeout 300 ms");
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
