/**
 * Chaos 1: SIGKILL of workers under load, with exact accounting. 64 clients in a closed loop over
 * the real server and real recording workers; every 2 s one worker is SIGKILLed. Every message is
 * answered exactly once, on its own connection, in order, or (when its worker died with it) its
 * connection is closed with its one CLOSE event; no worker outlives the server. And the same load
 * through resets (resetter.Reset over RPC, as `rr-tcp reset` calls it): not a message cut.
 */
import { afterEach, expect, it } from "vitest";
import { RpcClient } from "../../src/worker/index.js";
import type { Recorded } from "../integration/harness.js";
import {
  allClosed,
  chaosConfig,
  closeCounts,
  echoBody,
  expectNoneLostOrMisdelivered,
  expectOneCloseEach,
  explain,
  killEverything,
  loadColumns,
  LoopClient,
  secondsSince,
  serve,
  stopClients,
  stopServer,
} from "./harness.js";
import { record } from "./ledger.js";

afterEach(killEverything);

/** Recording workers; debug logs for explain(). */
const config = (workers: number): string =>
  chaosConfig({ rpc: true, workers, allocateTimeout: "30s", destroyTimeout: "5s", debugLogs: true });

const CLIENTS = 64;
const KILL_EVERY_MS = 2_000;
const RUN_MS = 9_000;

it("1 kill -9 under load: 64 clients, a worker SIGKILLed every 2 s", async () => {
  const started = performance.now();
  const served = await serve(config(4));
  const clients = Array.from(
    { length: CLIENTS },
    (_, i) => new LoopClient(served.port(), String(i), { maxBatch: 4, parse: echoBody }),
  );
  let kills = 0;
  const killer = setInterval(() => {
    const workers = served.watch.workers();
    const victim = workers[Math.floor(Math.random() * workers.length)];
    if (victim === undefined) return;
    try {
      process.kill(victim, "SIGKILL");
      kills++;
    } catch {
      // Gone already.
    }
  }, KILL_EVERY_MS);
  // The load runs for a fixed time: the fault schedule, not a wait for a result.
  await new Promise((resolve) => setTimeout(resolve, RUN_MS));
  clearInterval(killer);
  const tally = await stopClients(clients);
  const closes = await allClosed(served.recording, tally.connections);
  const { leaked, peakRssMiB } = await stopServer(served);
  record({
    case: "1 kill -9 under load (64 clients, SIGKILL a worker every 2 s)",
    faults: kills,
    ...loadColumns(tally, closes),
    leaked: leaked.length,
    peakRssMiB,
    seconds: secondsSince(started),
  });
  expectNoneLostOrMisdelivered(tally);
  expectOneCloseEach(closes, explain(served, closes));
  expect(closes.closed).toBe(tally.connections);
  expect(leaked).toEqual([]);
  // The load and the fault were real.
  expect(tally.sent).toBe(tally.answered + tally.cut + tally.lost);
  expect(kills).toBeGreaterThanOrEqual(4);
  expect(tally.answered).toBeGreaterThan(500);
});

it("1 resets under load: 32 clients, resetter.Reset one after another for 6 s; no message cut, old workers gone", async () => {
  const started = performance.now();
  // Two workers: each reset starts two new ones (a tsx start each) before it stops the old.
  const served = await serve(config(2));
  const rpc = await RpcClient.connect(served.rpc);
  const clients = Array.from(
    { length: 32 },
    (_, i) => new LoopClient(served.port(), String(i), { maxBatch: 4, parse: echoBody }),
  );
  let resets = 0;
  const failures: string[] = [];
  // One reset after another (each starts new workers, then stops the old ones) for 6 s: the
  // fault schedule, not a wait for a result.
  const until = performance.now() + 6_000;
  while (performance.now() < until) {
    resets++;
    await rpc.call("resetter.Reset", "tcp").catch((err: Error) => failures.push(err.message));
  }
  rpc.close();
  const tally = await stopClients(clients);
  const closes = await allClosed(served.recording, tally.connections);
  const workerPids = new Set(served.recording.all().map((r) => r.pid));
  const { leaked, peakRssMiB } = await stopServer(served);
  record({
    case: "1 resets under load (32 clients, resetter.Reset back to back for 6 s)",
    faults: resets,
    ...loadColumns(tally, closes),
    leaked: leaked.length,
    peakRssMiB,
    seconds: secondsSince(started),
  });
  expect(failures).toEqual([]);
  expect({
    cut: tally.cut,
    lost: tally.lost,
    duplicated: tally.duplicated,
    wrong: tally.wrong,
    outOfOrder: tally.outOfOrder,
  }).toEqual({ cut: 0, lost: 0, duplicated: 0, wrong: 0, outOfOrder: 0 });
  expect(tally.samples).toEqual([]);
  expectOneCloseEach(closes, explain(served, closes));
  expect(closes.closed).toBe(tally.connections);
  expect(leaked).toEqual([]);
  // The load and the resets were real: workers of several generations answered.
  expect(resets).toBeGreaterThanOrEqual(2);
  expect(workerPids.size).toBeGreaterThan(2 * 2);
  expect(tally.answered).toBeGreaterThan(500);
});

it("1 kill -9 of a server process under load: tcp.processes 2, 64 clients, one SIGKILLed every 3 s", async () => {
  const started = performance.now();
  const served = await serve(
    chaosConfig({ workers: 4, processes: 2, allocateTimeout: "30s", destroyTimeout: "5s", debugLogs: true }),
  );
  const clients = Array.from(
    { length: CLIENTS },
    (_, i) => new LoopClient(served.port(), String(i), { maxBatch: 4, parse: echoBody }),
  );
  // The primary's children are the server processes; each victim takes its own connections and workers.
  const victims = new Set<number>();
  const killer = setInterval(() => {
    const processes = served.watch.workers().filter((pid) => !victims.has(pid));
    const victim = processes[Math.floor(Math.random() * processes.length)];
    if (victim === undefined) return;
    try {
      process.kill(victim, "SIGKILL");
      victims.add(victim);
    } catch {
      // Gone already.
    }
  }, 3_000);
  // The load runs for a fixed time: the fault schedule, not a wait for a result.
  await new Promise((resolve) => setTimeout(resolve, RUN_MS));
  clearInterval(killer);
  const tally = await stopClients(clients);
  const onVictim = (r: Recorded): boolean => r.ppid !== undefined && victims.has(r.ppid);
  // The survivors' connections: each one CLOSE, last (how many there are, only the records say).
  // The victims' CLOSE events went with their process.
  const closes = await allClosed(served.recording, 0, undefined, 0, (r) => !onVictim(r));
  const onKilled = closeCounts(served.recording.all().filter(onVictim), 0);
  const { leaked, peakRssMiB } = await stopServer(served);
  record({
    case: "1 kill -9 of a server process under load (tcp.processes 2, 64 clients, SIGKILL one every 3 s)",
    faults: victims.size,
    ...loadColumns(tally, closes),
    leaked: leaked.length,
    peakRssMiB,
    seconds: secondsSince(started),
  });
  // Cut with their process, never lost, doubled or given to another client.
  expectNoneLostOrMisdelivered(tally);
  expectOneCloseEach(closes, explain(served, closes));
  // A killed process's connections got at most one CLOSE (one answered before the kill), never two.
  expect(onKilled.duplicateClose).toBe(0);
  expect(leaked).toEqual([]);
  // The load and the faults were real: processes killed and replaced, connections cut, the rest served.
  expect(victims.size).toBeGreaterThanOrEqual(2);
  // Each seen and started again (a victim may have been a replacement still starting).
  const replaced = served.cli.stderr().match(/server process \d exited \(SIGKILL\)[^"]*; starting it again/g);
  expect(replaced?.length).toBe(victims.size);
  expect(tally.cut).toBeGreaterThan(0);
  expect(tally.sent).toBe(tally.answered + tally.cut + tally.lost);
  expect(tally.answered).toBeGreaterThan(500);
});
