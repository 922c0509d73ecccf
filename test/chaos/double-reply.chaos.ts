/**
 * Chaos 2: a worker that answers one event twice, under load. Every worker is
 * test/fixtures/hostile-worker.mjs (its default answer is `<pid>:<body>`), recorded by
 * fixtures/recorded.mjs; 24 background clients in a closed loop, and 2 culprit clients whose every
 * second message asks its worker for a second reply: in one write (`twice`), in a second write
 * right after the first (`twice-split`), or 50 ms later (`twice-late`, where the worker echoes
 * event ids: HOSTILE_ECHO_EVENT_ID=1). Whatever the server does with the extra frame, no client
 * may receive bytes that are not the reply to its own message (the extra `<pid>:STALE` least of
 * all), none may lose a message on an open connection, and every connection gets one CLOSE.
 */
import { afterEach, expect, it } from "vitest";
import { eventually } from "../fixtures/eventually.js";
import {
  allClosed,
  chaosConfig,
  expectOneCloseEach,
  explain,
  HOSTILE_CMD_YAML,
  killEverything,
  loadColumns,
  LoopClient,
  pidPrefixed,
  secondsSince,
  serve,
  stopClients,
  stopServer,
} from "./harness.js";
import { record } from "./ledger.js";

afterEach(killEverything);

/** Hostile workers, recorded; debug logs for explain(). */
const CONFIG = chaosConfig({
  command: HOSTILE_CMD_YAML,
  workers: 3,
  allocateTimeout: "20s",
  destroyTimeout: "5s",
  debugLogs: true,
});

const BACKGROUND = 24;
const CULPRITS = 2;
const RUN_MS = 4_000;
const MIN_CULPRIT_MESSAGES = 20;
const MIN_ANSWERED = 500;

// `measured`: the case a worker that does not echo event ids can get through, a second reply
// written after a pause, once the worker was back in its wait for input and its next event may
// already be on its way (docs/behaviour.md#replies-matched-to-their-events). Its row is recorded,
// its misdeliveries counted and shown, but not asserted: the server cannot tell that reply from
// the next one, as RoadRunner cannot. With event ids the same fault must cost nothing.
it.each([
  { mode: "twice-late", echo: true, measured: false },
  { mode: "twice-split", echo: true, measured: false },
  { mode: "twice-split", echo: false, measured: false },
  { mode: "twice", echo: false, measured: false },
  { mode: "twice-late", echo: false, measured: true },
])(
  "2 double reply: $mode (event ids echoed: $echo) under load; nobody gets bytes not its own",
  async ({ mode, echo, measured }) => {
    const started = performance.now();
    const served = await serve(CONFIG, { HOSTILE_ECHO_EVENT_ID: echo ? "1" : "0" });
    let culpritMessages = 0;
    const clients = [
      ...Array.from(
        { length: BACKGROUND },
        (_, i) => new LoopClient(served.port(), `b${i}`, { maxBatch: 2, parse: pidPrefixed }),
      ),
      ...Array.from(
        { length: CULPRITS },
        (_, i) =>
          new LoopClient(served.port(), `c${i}`, {
            maxBatch: 1,
            parse: pidPrefixed,
            message: (seq) => {
              if (seq % 2 !== 0) return undefined;
              culpritMessages++;
              return mode;
            },
          }),
      ),
    ];
    // The load runs for a fixed time (the fault schedule), and on a slow machine until the fault
    // happened often enough to count.
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    const answered = () => clients.reduce((n, c) => n + c.tally.answered, 0);
    // A misdelivery already seen ends it: the case has failed, and its clients may be stuck.
    const misdelivered = () => !measured && clients.some((c) => c.tally.wrong > 0);
    await eventually(() => (culpritMessages >= MIN_CULPRIT_MESSAGES && answered() >= MIN_ANSWERED) || misdelivered(), {
      timeout: 30_000,
      what: `${MIN_CULPRIT_MESSAGES} culprit messages and ${MIN_ANSWERED} replies`,
    }).catch(() => undefined);
    const tally = await stopClients(clients);
    const closes = await allClosed(served.recording, tally.connections);
    const { leaked, peakRssMiB } = await stopServer(served);
    record({
      case: `2 double reply: ${mode}${echo ? " (event ids echoed)" : " (no event ids)"}${measured ? ", the documented window: measured, not asserted" : ""}, 24 + 2 culprit clients`,
      faults: culpritMessages,
      ...loadColumns(tally, closes),
      leaked: leaked.length,
      peakRssMiB,
      seconds: secondsSince(started),
    });
    expectOneCloseEach(closes, explain(served, closes));
    expect(closes.closed).toBe(tally.connections);
    expect(leaked).toEqual([]);
    if (measured) {
      if (tally.wrong > 0)
        console.log(`${mode} without event ids: ${tally.wrong} misdelivered (${tally.samples.join("; ")})`);
      return;
    }
    expect(
      { wrong: tally.wrong, lost: tally.lost, duplicated: tally.duplicated, outOfOrder: tally.outOfOrder },
      tally.samples.join("; "),
    ).toEqual({ wrong: 0, lost: 0, duplicated: 0, outOfOrder: 0 });
    // The load and the fault were real.
    expect(tally.sent).toBe(tally.answered + tally.cut + tally.lost);
    expect(culpritMessages).toBeGreaterThanOrEqual(MIN_CULPRIT_MESSAGES);
    expect(tally.answered).toBeGreaterThanOrEqual(MIN_ANSWERED);
  },
);
