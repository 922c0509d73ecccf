import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { IdleWorkers } from "../../src/pool/idle-workers.js";
import { OutputLines } from "../../src/pool/output-lines.js";
import { maxJobsWithJitter, resolvePoolOptions } from "../../src/pool/pool-options.js";
import { RespawnBackoff } from "../../src/pool/respawn-backoff.js";
import { exceededLimit } from "../../src/pool/supervisor.js";
import { WaitQueue, type WaitQueueNode } from "../../src/pool/wait-queue.js";
import { workerEnv } from "../../src/pool/worker-env.js";
import { canMove } from "../../src/pool/worker-state.js";

class Node implements WaitQueueNode<Node> {
  prev: Node | undefined;
  next: Node | undefined;
  queued = false;
  constructor(readonly id: number) {}
}

describe("WaitQueue", () => {
  it("behaves like an array under push, unshift, shift and remove", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("push", "unshift", "shift", "remove"), fc.nat(20))), (ops) => {
        const queue = new WaitQueue<Node>();
        const model: Node[] = [];
        let id = 0;
        for (const [op, n] of ops) {
          if (op === "push" || op === "unshift") {
            const node = new Node(id++);
            queue[op](node);
            model[op](node);
          } else if (op === "shift") {
            expect(queue.shift()).toBe(model.shift());
          } else if (model.length > 0) {
            const node = model.splice(n % model.length, 1)[0] as Node;
            expect(queue.remove(node)).toBe(true);
            expect(queue.remove(node)).toBe(false);
          }
          expect(queue.size).toBe(model.length);
        }
        expect(queue.drain()).toEqual(model);
        expect(queue.size).toBe(0);
      }),
    );
  });
});

describe("IdleWorkers", () => {
  it("hands out the longest idle worker, or the preferred one when idle", () => {
    const idle = new IdleWorkers<{ pid: number }>();
    const [a, b, c] = [{ pid: 1 }, { pid: 2 }, { pid: 3 }];
    idle.push(a);
    idle.push(b);
    idle.push(c);
    expect(idle.take(3)).toBe(c);
    expect(idle.take(3)).toBe(a);
    expect(idle.take()).toBe(b);
    expect(idle.take()).toBeUndefined();
    idle.push(a);
    expect(idle.delete(a)).toBe(true);
    expect(idle.size).toBe(0);
  });
});

describe("OutputLines", () => {
  it("gives the same lines under any chunking, CRs dropped, long lines cut at the limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 10 }),
        fc.array(fc.nat(8), { maxLength: 20 }),
        (lines, cuts) => {
          const text = lines.map((l) => l.replace(/\n/g, "")).join("\r\n") + "\n";
          const bytes = Buffer.from(text, "utf8");
          const reference: string[] = [];
          const whole = new OutputLines((l) => reference.push(l), 16);
          whole.push(bytes);
          whole.end();
          const got: string[] = [];
          const chunked = new OutputLines((l) => got.push(l), 16);
          let at = 0;
          for (const cut of cuts) {
            chunked.push(bytes.subarray(at, at + cut));
            at = Math.min(bytes.length, at + cut);
          }
          chunked.push(bytes.subarray(at));
          chunked.end();
          expect(got).toEqual(reference);
          for (const line of got) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(16);
        },
      ),
    );
  });

  it("keeps the last lines for error messages", () => {
    const lines = new OutputLines(() => {});
    lines.push(Buffer.from(Array.from({ length: 15 }, (_, i) => `line ${i}`).join("\n")));
    lines.end();
    expect(lines.tail()).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 5}`));
  });
});

describe("pool options", () => {
  it("applies RoadRunner's defaults to zero values", () => {
    const o = resolvePoolOptions({
      num_workers: 0,
      allocate_timeout: undefined,
      supervisor: { max_worker_memory: 128 },
    });
    expect(o.numWorkers).toBeGreaterThan(0);
    expect(o).toMatchObject({ allocateTimeoutMs: 60_000, destroyTimeoutMs: 60_000, resetTimeoutMs: 60_000 });
    expect(o.supervisor).toEqual({
      watchTickMs: 5_000,
      ttlMs: 0,
      idleTtlMs: 0,
      maxWorkerMemoryBytes: 128 * 1024 * 1024,
      execTtlMs: 0,
    });
    expect(resolvePoolOptions({}).supervisor).toBeUndefined();
    // The hold after replies of workers that do not echo event ids is on unless trusted.
    expect(resolvePoolOptions({}).trustReplies).toBe(false);
    expect(resolvePoolOptions({ trust_replies: true }).trustReplies).toBe(true);
  });

  it("debug forces num_workers 0, max_jobs 1, max_queue_size 0", () => {
    expect(resolvePoolOptions({ debug: true, num_workers: 8, max_jobs: 5, max_queue_size: 3 })).toMatchObject({
      numWorkers: 0,
      maxJobs: 1,
      maxQueueSize: 0,
    });
  });

  it("refuses more than 500 workers", () => {
    expect(() => resolvePoolOptions({ num_workers: 501 })).toThrow(/can't be more than 500/);
  });

  it("max_jobs jitter adds floor(max_jobs * p / 100) for p in 0..14", () => {
    expect(maxJobsWithJitter(0, 0.99)).toBe(0);
    expect(maxJobsWithJitter(100, 0)).toBe(100);
    expect(maxJobsWithJitter(100, 0.999)).toBe(114);
    expect(maxJobsWithJitter(3, 0.999)).toBe(3);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const limit = maxJobsWithJitter(n, r);
          expect(limit).toBeGreaterThanOrEqual(n);
          expect(limit).toBeLessThanOrEqual(n + Math.floor((n * 14) / 100));
        },
      ),
    );
  });
});

describe("RespawnBackoff", () => {
  it("doubles from the initial delay up to the cap, and starts over after a success", () => {
    const b = new RespawnBackoff({ initialMs: 100, maxMs: 1_000 });
    expect([1, 2, 3, 4, 5, 6].map(() => b.failure(0))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    b.success(0);
    expect(b.failure(0)).toBe(100);
  });

  it("counts only the success of a worker started after the last failure", () => {
    const b = new RespawnBackoff({ initialMs: 100, maxMs: 10_000 });
    b.failure(1_000);
    b.failure(2_000);
    b.success(500); // an old worker still serving: the command is not fixed
    expect(b.failure(3_000)).toBe(400);
    b.success(3_500); // a worker started after that failure served: it is
    expect(b.failure(4_000)).toBe(100);
  });

  it("starts a new series when the last failure is long past", () => {
    const b = new RespawnBackoff({ initialMs: 100, maxMs: 1_000 });
    b.failure(0);
    b.failure(0);
    expect(b.failure(10_000)).toBe(100);
  });
});

describe("supervisor limits", () => {
  const limits = { watchTickMs: 100, ttlMs: 1_000, idleTtlMs: 500, maxWorkerMemoryBytes: 100, execTtlMs: 0 };
  const worker = {
    pid: 1,
    status: WorkerStatus.READY,
    startedAt: 0,
    lastUsedAt: 0,
    retireReason: undefined,
    rssBytes: 0,
    rssReadAt: 0,
  };

  it("ttl counts from the start", () => {
    expect(exceededLimit(worker, limits, 999)).toBeUndefined();
    expect(exceededLimit(worker, limits, 1_000)).toMatchObject({ cause: "ttl", reason: expect.stringMatching(/^ttl/) });
  });

  it("idle_ttl only for idle workers that served an event", () => {
    expect(exceededLimit(worker, limits, 900)).toBeUndefined();
    expect(exceededLimit({ ...worker, lastUsedAt: 300 }, limits, 800)).toMatchObject({
      cause: "idle_ttl",
      reason: expect.stringMatching(/^idle_ttl/),
    });
    expect(exceededLimit({ ...worker, lastUsedAt: 300, status: WorkerStatus.WORKING }, limits, 800)).toBeUndefined();
  });

  it("max_worker_memory compares the RSS", () => {
    expect(exceededLimit({ ...worker, rssBytes: 100 }, limits, 0)).toBeUndefined();
    expect(exceededLimit({ ...worker, rssBytes: 101 }, limits, 0)).toMatchObject({
      cause: "max_worker_memory",
      reason: expect.stringMatching(/^max_worker_memory/),
    });
  });
});

describe("worker states", () => {
  it("only moves forward, and STOPPED is final", () => {
    expect(canMove(WorkerStatus.STARTING, WorkerStatus.READY)).toBe(true);
    expect(canMove(WorkerStatus.READY, WorkerStatus.WORKING)).toBe(true);
    expect(canMove(WorkerStatus.WORKING, WorkerStatus.READY)).toBe(true);
    expect(canMove(WorkerStatus.STOPPING, WorkerStatus.READY)).toBe(false);
    expect(canMove(WorkerStatus.STARTING, WorkerStatus.WORKING)).toBe(false);
    for (const to of [WorkerStatus.STARTING, WorkerStatus.READY, WorkerStatus.WORKING, WorkerStatus.STOPPING]) {
      expect(canMove(WorkerStatus.STOPPED, to)).toBe(false);
    }
  });
});

describe("worker environment", () => {
  it("puts RR_RELAY first and RR_VERSION, RR_MODE last", () => {
    const env = workerEnv(
      "pipes",
      { RR_RPC: "tcp://127.0.0.1:6001", FOO: "bar", RR_MODE: "http", RR_RELAY: "x" },
      { PATH: "/bin", RR_RELAY: "old" },
    );
    expect(env).toMatchObject({ PATH: "/bin", RR_RPC: "tcp://127.0.0.1:6001", FOO: "bar", RR_MODE: "tcp" });
    // server.env comes after RR_RELAY, as in RoadRunner (the last duplicate wins).
    expect(env.RR_RELAY).toBe("x");
  });
});
