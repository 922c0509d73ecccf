import { afterEach, describe, expect, it } from "vitest";
import type { WorkerPool } from "../../src/pool/worker-pool.js";
import { eventually, scaled } from "../fixtures/eventually.js";
import { failure, captureLogs, event, isAlive, livePids, parseReply, startPool } from "./helpers.js";

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

describe("worker failures", () => {
  it("a reply over tcp.pool.max_frame_size fails its event naming the limit; the worker is replaced", async () => {
    pool = await startPool({ num_workers: 1, max_frame_size: 1024 });
    const small = await pool.exec(event(`sleep:0:${"x".repeat(900)}`));
    const err = await failure(pool.exec(event(`sleep:0:${"x".repeat(2000)}`)));
    expect(err.pid).toBe(small.pid);
    expect(err.message).toContain("over the limit of 1024 bytes (1 KiB, tcp.pool.max_frame_size)");
    const next = await pool.exec(event("echo"));
    expect(next.pid).not.toBe(small.pid);
  });

  it("kill -9 during an event: that event fails naming the pid, a replacement is ready within a second", async () => {
    pool = await startPool({ num_workers: 2 });
    const pending = pool.exec(event("hang"));
    await eventually(() => pool!.state().workers.some((w) => w.status === 3), {
      timeout: 2_000,
      what: "a busy worker",
    });
    const victim = pool.state().workers.find((w) => w.status === 3)!.pid;
    const survivor = livePids(pool).find((pid) => pid !== victim)!;

    process.kill(victim, "SIGKILL");
    const killedAt = Date.now();
    const err = await failure(pending);
    expect(err.code).toBe("WORKER_DIED");
    expect(err.pid).toBe(victim);
    expect(err.signal).toBe("SIGKILL");
    expect(err.message).toContain(`worker pid ${victim}`);
    expect(err.message).toContain("SIGKILL");

    await eventually(() => livePids(pool!).length === 2, { timeout: 1_000, what: "a replacement worker" });
    expect(Date.now() - killedAt).toBeLessThan(scaled(1_000));
    const pids = livePids(pool);
    expect(pids).toContain(survivor);
    expect(pids).not.toContain(victim);
    expect(isAlive(victim)).toBe(false);

    const replies = await Promise.all(Array.from({ length: 6 }, () => pool!.exec(event("sleep:10"))));
    expect(new Set(replies.map((r) => r.pid))).toEqual(new Set(pids));
  });

  it("a worker that exits during an event: WORKER_DIED with its exit code, then replaced", async () => {
    pool = await startPool({ num_workers: 1 });
    const { pid } = await pool.exec(event("echo"));
    const err = await failure(pool.exec(event("exit")));
    expect(err).toMatchObject({ code: "WORKER_DIED", pid, exitCode: 1 });
    expect(err.message).toContain("exited with code 1");
    const next = await pool.exec(event("echo"));
    expect(next.pid).not.toBe(pid);
  });

  it("an ERROR frame fails only that event; the same worker serves the next one", async () => {
    pool = await startPool({ num_workers: 1 });
    const { pid } = await pool.exec(event("echo"));
    const err = await failure(pool.exec(event("error:database is down")));
    expect(err).toMatchObject({ code: "WORKER_ERROR", pid, workerMessage: "database is down" });
    expect(err.message).toContain("database is down");
    expect((await pool.exec(event("echo"))).pid).toBe(pid);
    expect(pool.state().workers.map((w) => w.pid)).toEqual([pid]);
  });

  it('a {"stop":true} reply re-runs the event on another worker and replaces the one that asked', async () => {
    pool = await startPool({ num_workers: 2 });
    const [first, second] = livePids(pool) as [number, number];
    const reply = await pool.exec(event(`stopif:${first}`, first));
    expect(reply.pid).toBe(second);
    expect(parseReply(reply).body).toBe(`stopif:${first}`);
    await eventually(() => !isAlive(first), { timeout: 2_000, what: "the worker that asked to stop to exit" });
    await eventually(() => livePids(pool!).length === 2, { timeout: 2_000, what: "its replacement" });
    expect(livePids(pool)).toContain(second);
    expect(livePids(pool)).not.toContain(first);
  });

  it('an event that every worker refuses with {"stop":true} fails after a bounded number of re-runs', async () => {
    pool = await startPool({ num_workers: 2 });
    const err = await failure(pool.exec(event("stop")));
    expect(err.code).toBe("RERUN_LIMIT");
    await eventually(() => livePids(pool!).length === 2, { timeout: 5_000, what: "replacements" });
    expect(parseReply(await pool.exec(event("echo"))).body).toBe("echo");
  });

  it("a reply with a bad CRC fails the event with BAD_FRAME; the worker is killed and replaced", async () => {
    pool = await startPool({ num_workers: 1 });
    const { pid } = await pool.exec(event("echo"));
    const err = await failure(pool.exec(event("badcrc")));
    expect(err).toMatchObject({ code: "BAD_FRAME", pid });
    expect(err.message).toMatch(/CRC/i);
    await eventually(() => !isAlive(pid), { timeout: 2_000, what: "the worker to be killed" });
    expect((await pool.exec(event("echo"))).pid).not.toBe(pid);
  });

  it("a reply without exactly one option fails the event with BAD_FRAME; the worker is replaced", async () => {
    pool = await startPool({ num_workers: 1 });
    const { pid } = await pool.exec(event("echo"));
    const err = await failure(pool.exec(event("badopts")));
    expect(err).toMatchObject({ code: "BAD_FRAME", pid });
    expect(err.message).toContain("options length should be equal 1");
    expect((await pool.exec(event("echo"))).pid).not.toBe(pid);
  });

  it("a frame sent while the worker has no event gets the worker replaced; the reply before it stands", async () => {
    const logs = captureLogs();
    pool = await startPool({ num_workers: 1 }, { logger: logs.logger });
    const reply = await pool.exec(event("twice"));
    expect(parseReply(reply).body).toBe("twice");
    await eventually(() => !isAlive(reply.pid), { timeout: 2_000, what: "the worker to be killed" });
    expect(logs.records.some((r) => r.msg.includes("sent a frame it was not asked for (while it had no event"))).toBe(
      true,
    );
    expect((await pool.exec(event("echo"))).pid).not.toBe(reply.pid);
  });

  it("a worker that dies while idle is replaced", async () => {
    pool = await startPool({ num_workers: 2 });
    await Promise.all([pool.exec(event("echo")), pool.exec(event("echo"))]);
    const [victim] = livePids(pool) as [number];
    process.kill(victim, "SIGKILL");
    await eventually(() => livePids(pool!).length === 2 && !livePids(pool!).includes(victim), {
      timeout: 2_000,
      what: "a replacement",
    });
    const replies = await Promise.all(Array.from({ length: 4 }, () => pool!.exec(event("sleep:20"))));
    expect(replies.every((r) => r.pid !== victim)).toBe(true);
  });
});
