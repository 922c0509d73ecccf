import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  Byte10,
  decodeFrame,
  encodeFrame,
  encodePayloadFrame,
  encodePayloadHead,
  encodeErrorFrame,
  FrameFlag,
} from "../../src/goridge/index.js";
import { PendingEvent } from "../../src/pool/pending-event.js";
import { readReply } from "../../src/pool/relay-session.js";
import { RespawnBackoff } from "../../src/pool/respawn-backoff.js";
import { Supervisor, type SupervisedWorker } from "../../src/pool/supervisor.js";
import { WorkerProcess, type ExecOutcome } from "../../src/pool/worker-process.js";
import { openRelaySource, type WorkerRelaySource } from "../../src/pool/worker-relay.js";
import {
  canMove,
  STATUS_OF,
  WORKER_TRANSITIONS,
  WorkerStateError,
  WorkerStatus,
  statusName,
  type WorkerPhase,
} from "../../src/pool/worker-state.js";
import { eventually } from "../fixtures/eventually.js";
import { FakeClock } from "./fake-clock.js";
import { event, isAlive, NODE, WORKER } from "./helpers.js";

const PHASES = Object.keys(WORKER_TRANSITIONS) as WorkerPhase[];
const silent = pino({ enabled: false });

describe("the worker state table", () => {
  it("reaches stopped from every state, and nothing leaves stopped", () => {
    const reachable = (from: WorkerPhase, seen = new Set<WorkerPhase>()): Set<WorkerPhase> => {
      for (const next of WORKER_TRANSITIONS[from]) {
        if (!seen.has(next)) {
          seen.add(next);
          reachable(next, seen);
        }
      }
      return seen;
    };
    for (const phase of PHASES.filter((p) => p !== "stopped")) expect(reachable(phase).has("stopped")).toBe(true);
    expect(WORKER_TRANSITIONS.stopped).toEqual([]);
  });

  it("never goes back to starting, and a stopping worker only stops", () => {
    for (const phase of PHASES) expect(WORKER_TRANSITIONS[phase]).not.toContain("starting");
    expect(WORKER_TRANSITIONS.stopping).toEqual(["stopped"]);
    expect(WORKER_TRANSITIONS.aborting).toEqual(["stopping"]);
  });

  it("shows each state as one WorkerStatus, and canMove is the table seen through them", () => {
    expect(new Set(PHASES.map((p) => STATUS_OF[p]))).toEqual(
      new Set([
        WorkerStatus.STARTING,
        WorkerStatus.READY,
        WorkerStatus.WORKING,
        WorkerStatus.STOPPING,
        WorkerStatus.STOPPED,
      ]),
    );
    expect(canMove(WorkerStatus.WORKING, WorkerStatus.READY)).toBe(true);
    expect(canMove(WorkerStatus.READY, WorkerStatus.READY)).toBe(false);
    expect(canMove(WorkerStatus.STOPPING, WorkerStatus.WORKING)).toBe(false);
    expect(statusName(STATUS_OF.settled)).toBe("WORKING");
  });
});

describe("WorkerProcess", () => {
  let source: WorkerRelaySource | undefined;
  let worker: WorkerProcess | undefined;
  afterEach(async () => {
    if (worker && worker.status !== WorkerStatus.STOPPED) {
      worker.kill("test over", "shutdown");
      await worker.exited;
    }
    await source?.close();
    worker = undefined;
    source = undefined;
  });

  async function startWorker(clock = new FakeClock(), env: Record<string, string> = {}) {
    source = await openRelaySource("pipes", { timeoutMs: 5_000, logger: silent });
    const moves: string[] = [];
    const outcomes: ExecOutcome[] = [];
    const w = new WorkerProcess({
      command: [NODE, WORKER],
      commandText: `${NODE} ${WORKER}`,
      env: { ...process.env, RR_RELAY: "pipes", ...env },
      relaySource: source,
      startTimeoutMs: 5_000,
      stopTimeoutMs: 2_000,
      execTtlMs: 0,
      maxExecs: 0,
      clock,
      logger: silent,
      listener: {
        workerStatusChanged: (_w, from, to) => moves.push(`${statusName(from)}->${statusName(to)}`),
        execDone: (_w, _event, outcome) => outcomes.push(outcome),
      },
    });
    worker = w;
    await w.start();
    return { worker: w, moves, outcomes, clock };
  }

  function pending(body: string): { event: PendingEvent; settled: Promise<unknown> } {
    let resolve!: (v: unknown) => void;
    const settled = new Promise((r) => (resolve = r));
    return { event: new PendingEvent(event(body), resolve, resolve), settled };
  }

  it("reports every status change, from STARTING to STOPPED, in order", async () => {
    const { worker: w, moves, outcomes, clock } = await startWorker();
    expect(w.phase).toBe("ready");
    expect(w.readyAt).toBe(clock.now());
    const { event: e } = pending("echo");
    w.exec(e);
    expect(w.phase).toBe("working");
    await eventually(() => outcomes.length > 0, { what: "the reply" });
    expect(w.phase).toBe("settled");
    expect(w.numExecs).toBe(1);
    expect(w.numReplies).toBe(1);
    w.release();
    w.stop("the test is done", "shutdown");
    await w.exited;
    expect(moves).toEqual([
      "STARTING->READY",
      "READY->WORKING",
      "WORKING->READY",
      "READY->STOPPING",
      "STOPPING->STOPPED",
    ]);
    expect([w.stopReason, w.stopCause]).toEqual(["the test is done", "shutdown"]);
    expect(isAlive(w.pid)).toBe(false);
  });

  it("refuses a move the table does not allow, naming the worker's pid", async () => {
    const { worker: w } = await startWorker();
    let thrown: unknown;
    try {
      w.release(); // READY -> ready: it has no event to be released from
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WorkerStateError);
    expect(thrown).toMatchObject({ code: "ILLEGAL_TRANSITION", pid: w.pid, from: "ready", to: "ready" });
    expect(w.phase).toBe("ready");
  });

  it("is told what happened instead of having its fields written: retire, recordRss", async () => {
    const { worker: w } = await startWorker();
    w.recordRss(12_345, 678);
    expect([w.rssBytes, w.rssReadAt]).toEqual([12_345, 678]);
    const { event: e } = pending("sleep:50");
    w.exec(e);
    w.retire("ttl reached", "ttl");
    w.retire("a later reason", "reset");
    // Busy: it finishes its event first, and keeps the first reason.
    expect(w.phase).toBe("working");
    expect(w.retirement).toEqual({ reason: "ttl reached", cause: "ttl" });
  });

  it("is killed when the stop timeout runs out on its clock, not before", async () => {
    const { worker: w, moves, clock } = await startWorker(new FakeClock(), { WORKER_ON_STOP: "ignore" });
    w.stop("stopping", "shutdown", 2_000);
    expect(clock.pending()).toEqual([2_000]);
    clock.advance(1_999);
    expect(w.status).toBe(WorkerStatus.STOPPING);
    expect(isAlive(w.pid)).toBe(true);
    clock.advance(1);
    await w.exited;
    expect(isAlive(w.pid)).toBe(false);
    expect(moves.at(-1)).toBe("STOPPING->STOPPED");
    expect(clock.pending()).toEqual([]);
  });
});

describe("reading a reply", () => {
  const reply = (context: string, body: string, flags = 0, byte10 = 0) =>
    readReply(decodeFrame(encodePayloadFrame(Buffer.from(context), Buffer.from(body), flags, byte10)), 42);

  it("a payload frame is a reply; an ERROR frame, a stop request and a streamed frame are not", () => {
    expect(reply("WRITE", "hi")).toMatchObject({ kind: "reply", reply: { pid: 42 } });
    const error = readReply(decodeFrame(encodeFrame(FrameFlag.ERROR, [], Buffer.from("boom"))), 42);
    expect(error).toMatchObject({ kind: "error", error: { code: "WORKER_ERROR", pid: 42, workerMessage: "boom" } });
    expect(reply('{"stop":true}', "")).toEqual({ kind: "stop" });
    expect(reply("WRITE", "x", 0, Byte10.STREAM)).toMatchObject({
      kind: "bad",
      reason: expect.stringContaining("STREAM"),
    });
    const noOption = readReply(decodeFrame(encodeFrame(0, [], Buffer.from("WRITE"))), 42);
    expect(noOption).toMatchObject({
      kind: "bad",
      reason: expect.stringContaining("options length should be equal 1"),
    });
  });

  it("from a worker that echoes event ids: only a reply carrying the event's id is its reply", () => {
    const withId = (id: number | undefined, flags = 0) =>
      decodeFrame(encodePayloadFrame(Buffer.from("WRITE"), Buffer.from("hi"), flags, 0, id));
    expect(readReply(withId(9), 42, 9)).toMatchObject({ kind: "reply", reply: { pid: 42 } });
    expect(readReply(withId(8), 42, 9)).toMatchObject({
      kind: "bad",
      reason: expect.stringContaining("carries event id 8 in 2 options, not the id 9 of the event it was sent"),
    });
    expect(readReply(withId(undefined), 42, 9)).toMatchObject({
      kind: "bad",
      reason: expect.stringContaining("carries no event id, not the id 9"),
    });
    // Its ERROR and stop replies carry the id too.
    expect(readReply(decodeFrame(encodeErrorFrame("boom", 9)), 42, 9)).toMatchObject({ kind: "error" });
    expect(readReply(decodeFrame(encodeErrorFrame("boom", 3)), 42, 9)).toMatchObject({ kind: "bad" });
    expect(readReply(decodeFrame(encodeErrorFrame("boom")), 42, 9)).toMatchObject({ kind: "bad" });
    const stop = encodePayloadFrame(Buffer.from('{"stop":true}'), Buffer.alloc(0), 0, 0, 9);
    expect(readReply(decodeFrame(stop), 42, 9)).toEqual({ kind: "stop" });
    // From a worker that does not, a second option is as bad as ever.
    expect(readReply(withId(9), 42)).toMatchObject({ kind: "bad", reason: expect.stringContaining("equal 1") });
  });

  it("a large body is sent after a head that is the same frame's first bytes", () => {
    const context = Buffer.from('{"event":"DATA"}');
    const body = Buffer.alloc(100_000, 7);
    const head = encodePayloadHead(context, body.length, 0x80);
    expect(Buffer.concat([head, body]).equals(encodePayloadFrame(context, body, 0x80))).toBe(true);
    expect(encodeFrame(0x80, [context.length], Buffer.concat([context, body]))).toEqual(Buffer.concat([head, body]));
    const headWithId = encodePayloadHead(context, body.length, 0x80, 0, 77);
    expect(Buffer.concat([headWithId, body])).toEqual(encodePayloadFrame(context, body, 0x80, 0, 77));
    expect(decodeFrame(Buffer.concat([headWithId, body])).options).toEqual([context.length, 77]);
  });
});

describe("the clock", () => {
  it("the respawn backoff reads its clock when given no time", () => {
    const clock = new FakeClock();
    const b = new RespawnBackoff({ initialMs: 100, maxMs: 1_000 }, clock);
    expect([b.failure(), b.failure()]).toEqual([100, 200]);
    clock.advance(2_001);
    // More than twice the cap since the last failure: a new series.
    expect(b.failure()).toBe(100);
  });

  it("the supervisor ticks on its clock, every watch_tick, until stopped", async () => {
    const clock = new FakeClock();
    const retired: string[] = [];
    const w: SupervisedWorker = {
      pid: process.pid,
      status: WorkerStatus.READY,
      startedAt: clock.now(),
      lastUsedAt: 0,
      retireReason: undefined,
      rssBytes: 0,
      recordRss(bytes) {
        (this as { rssBytes: number }).rssBytes = bytes;
      },
    };
    const supervisor = new Supervisor(
      { watchTickMs: 100, ttlMs: 1_000, idleTtlMs: 0, maxWorkerMemoryBytes: 0, execTtlMs: 0 },
      { supervisedWorkers: () => [w], retire: (_w, why) => retired.push(why) },
      silent,
      clock,
    );
    supervisor.start();
    expect(clock.pending()).toEqual([100]);
    clock.advance(99);
    expect(w.rssBytes).toBe(0);
    clock.advance(1);
    await eventually(() => w.rssBytes > 0, { what: "the first tick" });
    expect(retired).toEqual([]);
    expect(clock.pending()).toEqual([100]);
    clock.advance(900);
    await eventually(() => retired.length > 0, { what: "the tick past ttl" });
    expect(retired).toEqual([expect.stringMatching(/^ttl 1000 ms reached/)]);
    supervisor.stop();
    expect(clock.pending()).toEqual([]);
  });
});
