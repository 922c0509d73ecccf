/**
 * Chaos 3 and 4: shutdown with a hung worker, and signal sequences. The real `rr-tcp serve`, real
 * recording workers; signals sent to the server process as a process manager sends them. After
 * each, no process the server ever had outlives it (counted by pid and start time, with a bounded
 * wait); after a graceful stop, every connection has exactly one CLOSE event.
 */
import { afterEach, expect, it } from "vitest";
import { DUPLICATE_SIGNAL_WINDOW_MS } from "../../src/service/signals.js";
import { within } from "../fixtures/eventually.js";
import { openClient, type Client } from "../server/harness.js";
import {
  afterExit,
  allClosed,
  chaosConfig,
  closeColumns,
  expectOneCloseEach,
  explain,
  HOSTILE_CMD_YAML,
  killEverything,
  secondsSince,
  serve,
  type Served,
} from "./harness.js";
import { record } from "./ledger.js";

afterEach(killEverything);

const DESTROY_TIMEOUT_MS = 2_000;

/** Two workers, the recording worker unless `command` is given. */
const CONFIG = (command?: string): string =>
  chaosConfig({ command, workers: 2, allocateTimeout: "20s", destroyTimeout: `${DESTROY_TIMEOUT_MS}ms` });

/**
 * `idle` idle connections, and one more whose event (`slow:60000`) is with a worker when this
 * resolves (unless `busy` is false: then it is idle too).
 */
async function connections(served: Served, idle: number, busy = true): Promise<{ clients: Client[] }> {
  const clients = await Promise.all(Array.from({ length: idle + 1 }, () => openClient(served.port())));
  await served.recording.until(
    (all) => all.filter((r) => r.event === "CONNECTED").length === idle + 1,
    `${idle + 1} CONNECTED events`,
  );
  if (busy) {
    const uuid = await served.recording.uuidOf(clients[idle]!.socket.localPort);
    clients[idle]!.socket.write("slow:60000\r\n");
    const busyPid = await served.recording.until(
      (all) => all.find((r) => r.uuid === uuid && r.event === "DATA")?.pid,
      "the slow:60000 event with a worker",
    );
    served.watch.add(busyPid);
  }
  return { clients };
}

it("3 hung worker at shutdown: SIGTERM with a worker stuck in slow:60000; every connection one CLOSE", async () => {
  const started = performance.now();
  const served = await serve(CONFIG());
  const IDLE = 20;
  const { clients } = await connections(served, IDLE);
  const signalled = performance.now();
  served.cli.child.kill("SIGTERM");
  const exit = await within(served.exited, {
    timeout: DESTROY_TIMEOUT_MS + 5_000,
    what: "rr-tcp to exit after SIGTERM",
  });
  const stopMs = performance.now() - signalled;
  const closes = await allClosed(served.recording, IDLE + 1, 1_000);
  const { leaked, peakRssMiB } = await afterExit(served);
  const fins = await Promise.all(
    clients.map((c) =>
      within(c.ended, { timeout: 1_000, what: "the server's FIN" }).then(
        () => 1,
        () => 0,
      ),
    ),
  );
  record({
    case: "3 hung worker at shutdown (SIGTERM, one worker in slow:60000, 21 conns)",
    faults: 2,
    ...closeColumns(closes),
    leaked: leaked.length,
    peakRssMiB,
    seconds: secondsSince(started),
  });
  expect(exit).toEqual({ code: 0, signal: null });
  // Within destroy_timeout, plus the stop frame's second and the workers' exits.
  expect(stopMs).toBeLessThan(DESTROY_TIMEOUT_MS + 3_000);
  expectOneCloseEach(closes, explain(served, closes));
  expect(closes.closed).toBe(IDLE + 1);
  expect(leaked).toEqual([]);
  expect(fins.reduce((a: number, b) => a + b, 0)).toBe(IDLE + 1);
});

interface Sequence {
  name: string;
  signals: NodeJS.Signals[];
  /** The worker command (default the recording worker). */
  command?: string;
  /** Whether a worker is in a slow:60000 event when the signals come (default true). */
  busy?: boolean;
  /** The exit the sequence must end with. */
  exit: { code: number | null; signal: NodeJS.Signals | null };
}

const SEQUENCES: Sequence[] = [
  { name: "SIGTERM twice", signals: ["SIGTERM", "SIGTERM"], exit: { code: 1, signal: null } },
  { name: "SIGINT twice", signals: ["SIGINT", "SIGINT"], exit: { code: 1, signal: null } },
  { name: "SIGTERM then SIGINT", signals: ["SIGTERM", "SIGINT"], exit: { code: 1, signal: null } },
  { name: "SIGQUIT", signals: ["SIGQUIT"], exit: { code: 0, signal: null } },
  {
    name: "SIGKILL of the server, workers idle",
    signals: ["SIGKILL"],
    busy: false,
    exit: { code: null, signal: "SIGKILL" },
  },
  {
    name: "SIGKILL of the server, an SDK worker busy",
    signals: ["SIGKILL"],
    exit: { code: null, signal: "SIGKILL" },
  },
  {
    name: "SIGKILL of the server, a plain-node worker busy",
    signals: ["SIGKILL"],
    command: HOSTILE_CMD_YAML,
    exit: { code: null, signal: "SIGKILL" },
  },
];

it.each(SEQUENCES)(
  "4 signals: $name; no worker outlives the server",
  async ({ name, signals, command, busy = true, exit }) => {
    const started = performance.now();
    const served = await serve(CONFIG(command));
    const IDLE = 4;
    const { clients } = await connections(served, IDLE, busy);
    for (const [i, signal] of signals.entries()) {
      if (i > 0) {
        await served.cli.log((line) => line.signal === signals[0], "the shutdown log line");
        // Sooner, it would count as the first signal delivered twice (a terminal's Ctrl-C under npm).
        await new Promise((resolve) => setTimeout(resolve, DUPLICATE_SIGNAL_WINDOW_MS + 50));
      }
      served.cli.child.kill(signal);
    }
    const exited = await within(served.exited, {
      timeout: DESTROY_TIMEOUT_MS + 8_000,
      what: `rr-tcp to exit after ${signals.join(", ")}`,
    });
    const graceful = exit.code === 0;
    const closes = graceful ? await allClosed(served.recording, IDLE + 1, 1_000) : undefined;
    const { leaked, peakRssMiB } = await afterExit(served);
    for (const c of clients) c.socket.destroy();
    record({
      case: `4 signals: ${name}${busy && !name.includes("busy") ? " (a worker busy)" : ""}`,
      faults: signals.length,
      ...closeColumns(closes),
      leaked: leaked.length,
      peakRssMiB,
      seconds: secondsSince(started),
    });
    expect(exited).toEqual(exit);
    if (closes) {
      expectOneCloseEach(closes, explain(served, closes));
    }
    expect(leaked, `pids seen: ${served.watch.seen().join(" ")}`).toEqual([]);
  },
);
