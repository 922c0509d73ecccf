import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { WorkerPool } from "../../src/pool/worker-pool.js";
import { eventually } from "../fixtures/eventually.js";
import { event, isAlive, livePids, ms, parseReply, startPool } from "./helpers.js";

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

const relays = {
  tcp: () => "tcp://127.0.0.1:0",
  unix: () => `unix://${join(mkdtempSync(join(tmpdir(), "rr-pool-")), "relay.sock")}`,
};

describe.each(Object.entries(relays))("%s relay", (kind, address) => {
  it("runs events on every worker, survives a kill -9, and leaves nothing behind", async () => {
    const relay = address();
    pool = await startPool({ num_workers: 2 }, { relay });
    const env = JSON.parse((await pool.exec(event("env"))).body.toString()) as Record<string, string>;
    expect(env.RR_RELAY).toMatch(kind === "tcp" ? /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/ : /^unix:\/\/\/.*relay\.sock$/);

    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => pool!.exec(event(`sleep:${10 + i}`))));
    const pids = new Set(replies.map((r) => r.pid));
    expect(pids).toEqual(new Set(livePids(pool)));
    for (const reply of replies) expect(reply.body.toString()).not.toMatch(/^CONCURRENT:/);

    const pending = pool.exec(event("hang")).catch((e: unknown) => e);
    await eventually(() => pool!.state().workers.some((w) => w.status === 3), {
      timeout: 2_000,
      what: "a busy worker",
    });
    const victim = pool.state().workers.find((w) => w.status === 3)!.pid;
    process.kill(victim, "SIGKILL");
    expect(await pending).toMatchObject({ code: "WORKER_DIED", pid: victim });
    await eventually(() => livePids(pool!).length === 2 && !livePids(pool!).includes(victim), {
      timeout: 1_000,
      what: "a replacement",
    });
    expect(parseReply(await pool.exec(event("echo"))).body).toBe("echo");

    const last = livePids(pool);
    await pool.destroy();
    for (const pid of last) expect(isAlive(pid)).toBe(false);
    if (kind === "unix") expect(existsSync(relay.slice("unix://".length))).toBe(false);
  });

  it("a worker that never connects fails its start naming allocate_timeout", async () => {
    const err = await startPool(
      { num_workers: 1, allocate_timeout: ms(400) },
      { relay: address(), workerEnv: { WORKER_START: "silent" } },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "SPAWN_FAILED", timeoutMs: 400 });
  });
});
