/**
 * Chaos 7: hostile workers. One real `rr-tcp serve` whose workers are
 * test/fixtures/hostile-worker.mjs, recorded by fixtures/recorded.mjs. Culprit connections ask
 * their worker for garbage on stdout (`text`), a bad header CRC (`crc`), a 4 GiB header (`huge`),
 * two options (`opts`) or half a frame and exit (`half`); each culprit's connection is closed
 * with one CLOSE and receives nothing, its worker is replaced, and 8 background clients in a
 * closed loop on the other workers lose nothing. Then the worker command crash-loops (exits at
 * once while a flag file exists): the respawn backoff keeps its starts few, the other workers
 * keep serving, and once the command works again the pool is whole.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Recorded } from "../integration/harness.js";
import { eventually, within } from "../fixtures/eventually.js";
import { openClient } from "../server/harness.js";
import {
  allClosed,
  chaosConfig,
  expectOneCloseEach,
  HOSTILE_CMD_YAML,
  killEverything,
  loadColumns,
  LoopClient,
  pidPrefixed,
  secondsSince,
  serve,
  stopClients,
  stopServerCleanly,
  type Served,
} from "./harness.js";
import { record } from "./ledger.js";

const WORKERS = 3;

/** Hostile workers, recorded; CRASH_FLAG is the flag file that makes their command exit at once. */
const CONFIG = chaosConfig({
  command: HOSTILE_CMD_YAML,
  env: 'CRASH_FLAG: "${DIR}/crash"',
  workers: WORKERS,
  allocateTimeout: "30s",
  destroyTimeout: "5s",
});

let served: Served;
beforeAll(async () => {
  served = await serve(CONFIG);
});
afterAll(killEverything);

/** The records since `from`. */
const since = (from: number): Recorded[] => served.recording.all().slice(from);

/** Every worker up: WORKERS alive, each past its START (a replacement of a crashed one too). */
async function poolWhole(ms = 15_000): Promise<void> {
  await eventually(
    () => {
      const alive = served.watch.workers();
      const started = new Set(
        served.recording
          .all()
          .filter((r) => r.event === "START")
          .map((r) => r.pid),
      );
      return alive.length === WORKERS && alive.every((pid) => started.has(pid));
    },
    { timeout: ms, what: `${WORKERS} workers running`, detail: () => `alive: ${served.watch.workers().join(" ")}` },
  );
}

/**
 * 8 background clients in a closed loop while `fault` runs, then the accounting: none of their
 * messages lost, duplicated, misordered or answered with bytes not their own, none cut (but by a
 * worker the fault SIGKILLs), and every connection of the case with one CLOSE.
 */
async function underLoad(
  name: string,
  fault: () => Promise<{ faults: number; wrong: number; connections: number; kills?: number }>,
): Promise<void> {
  const started = performance.now();
  await poolWhole();
  served.resetPeakRss();
  const from = served.recording.all().length;
  const clients = Array.from(
    { length: 8 },
    (_, i) => new LoopClient(served.port(), `w${i}`, { maxBatch: 2, parse: pidPrefixed }),
  );
  await eventually(() => clients.every((c) => c.tally.answered > 0), { what: "the background clients served" });
  const result = await fault();
  const during = clients.reduce((n, c) => n + c.tally.answered, 0);
  await eventually(() => clients.reduce((n, c) => n + c.tally.answered, 0) > during + 20, {
    timeout: 10_000,
    what: "the background clients served after the fault",
  });
  const tally = await stopClients(clients);
  const closes = await allClosed(served.recording, result.connections + tally.connections, 20_000, from);
  record({
    case: `7 hostile workers: ${name}`,
    faults: result.faults,
    ...loadColumns(tally, closes),
    wrong: tally.wrong + result.wrong,
    peakRssMiB: served.watch.peakRssMiB(),
    seconds: secondsSince(started),
  });
  // A worker the case SIGKILLs may have a background batch (up to 2 messages) with it: that connection is cut.
  expect(tally.cut, "background messages cut").toBeLessThanOrEqual(2 * (result.kills ?? 0));
  expect(
    {
      lost: tally.lost,
      wrong: tally.wrong + result.wrong,
      duplicated: tally.duplicated,
      outOfOrder: tally.outOfOrder,
    },
    tally.samples.join("; "),
  ).toEqual({ lost: 0, wrong: 0, duplicated: 0, outOfOrder: 0 });
  expectOneCloseEach(closes, closes.detail);
}

it.each(["text", "crc", "huge", "opts", "half"])(
  "7 bad frames: 5 culprits asking for %s; each culprit closed with one CLOSE, nobody else notices",
  async (mode) => {
    await underLoad(`${mode} (5 culprit conns, 8 background clients)`, async () => {
      let wrong = 0;
      for (let i = 0; i < 5; i++) {
        const culprit = await openClient(served.port());
        culprit.socket.write(`${mode}\r\n`);
        await within(culprit.ended, { timeout: 10_000, what: `FIN to the client whose worker sent ${mode}` });
        if (culprit.received() !== "") wrong++;
        culprit.socket.end();
      }
      return { faults: 5, wrong, connections: 5 };
    });
  },
);

it("7 crash loop: the command exits at once for 3 s; its starts stay few, the others serve on", async () => {
  await underLoad("crash loop (command exits at once for 3 s, 8 background clients)", async () => {
    const flag = join(served.dir, "crash");
    const victim = served.watch.workers()[0]!;
    const from = served.recording.all().length;
    writeFileSync(flag, "");
    process.kill(victim, "SIGKILL");
    // The fault's length: 3 s of a command that cannot start.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const starts = since(from).filter((r) => r.event === "START").length;
    rmSync(flag);
    await poolWhole(40_000);
    // 100 ms doubling: about 5 attempts in 3 s. Without the backoff, a node start every ~50 ms.
    expect(starts, "worker starts in 3 s of crash loop").toBeGreaterThanOrEqual(2);
    expect(starts, "worker starts in 3 s of crash loop").toBeLessThanOrEqual(10);
    return { faults: starts, wrong: 0, connections: 0, kills: 1 };
  });
});

it("7 after the hostile workers: SIGTERM stops the server, no process left", async () => {
  await stopServerCleanly(served, "7 hostile workers: the server's stop after them");
});
