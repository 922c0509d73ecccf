/**
 * The chaos suite's harness: the real `rr-tcp serve` as a child process (test/integration/cli-harness.ts),
 * a watch on its processes (every worker pid it ever had, its peak RSS), load clients whose every
 * message is tagged and accounted for, and the CLOSE accounting from the workers' record file
 * (test/integration/harness.ts's Recording). Nothing here sleeps to gate an assertion: waits are
 * test/fixtures/eventually.ts's, scaled by RR_TCP_TEST_TIMEOUT_SCALE.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { childPids, killProcessGroups } from "../../src/service/signals.js";
import { eventually, within } from "../fixtures/eventually.js";
import { killRunningClis, runCli, type Cli } from "../integration/cli-harness.js";
import { RECORDING_WORKER_CMD, tempRecording, type Recorded, type Recording } from "../integration/harness.js";
import { record, type Row } from "./ledger.js";

export const HOSTILE_WORKER = fileURLToPath(new URL("../fixtures/hostile-worker.mjs", import.meta.url));
export const RECORDED = fileURLToPath(new URL("./fixtures/recorded.mjs", import.meta.url));
/** hostile-worker.mjs with its events recorded (fixtures/recorded.mjs), as a YAML flow list. */
export const HOSTILE_CMD_YAML = JSON.stringify([process.execPath, RECORDED, HOSTILE_WORKER]);
export { RECORDING_WORKER_CMD };

// --- processes -------------------------------------------------------------------------------

/** Field 22 of /proc/<pid>/stat (start time in clock ticks) and field 3 (state); undefined when gone. */
function stat(pid: number): { start: string; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** The process's peak RSS so far (VmHWM), in KiB; 0 when gone. */
function peakRssKiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Every process the server ever had as a child (sampled every 50 ms from /proc, and any pid the
 * caller adds, such as the pids in the record file), each with its start time, so a pid the
 * kernel gave to another process later is not taken for a leaked worker. And the server's peak RSS.
 */
export class ProcessWatch {
  readonly #seen = new Map<number, string>();
  #peakKiB = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(readonly serverPid: number) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 50);
  }

  #sample(): void {
    this.#peakKiB = Math.max(this.#peakKiB, peakRssKiB(this.serverPid));
    for (const pid of childPids(this.serverPid)) this.add(pid);
  }

  /** Watches `pid` too (if it is alive now). */
  add(pid: number): void {
    if (this.#seen.has(pid)) return;
    const s = stat(pid);
    if (s) this.#seen.set(pid, s.start);
  }

  /** The server's workers alive now. */
  workers(): number[] {
    return childPids(this.serverPid).filter((pid) => stat(pid)?.state !== "Z");
  }

  /** Every pid seen, the server's workers (and their children) only. */
  seen(): number[] {
    return [...this.#seen.keys()];
  }

  /** The watched processes still running: the same start time, and not a zombie. */
  alive(): number[] {
    return [...this.#seen]
      .filter(([pid, start]) => {
        const s = stat(pid);
        return s !== undefined && s.start === start && s.state !== "Z";
      })
      .map(([pid]) => pid);
  }

  /** Peak RSS of the server, MiB (the last sample before it exited). */
  peakRssMiB(): number {
    this.#peakKiB = Math.max(this.#peakKiB, peakRssKiB(this.serverPid));
    return Math.round(this.#peakKiB / 1024);
  }

  /** Starts the peak over: the kernel's VmHWM too (`5` to /proc/<pid>/clear_refs). */
  resetPeak(): void {
    try {
      writeFileSync(`/proc/${this.serverPid}/clear_refs`, "5");
    } catch {
      // Not Linux, or not allowed: the peak stays the server's lifetime peak.
    }
    this.#peakKiB = 0;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** SIGKILLs what is left (process groups), for afterEach. */
  killAll(): void {
    this.stop();
    killProcessGroups(this.alive());
  }
}

/**
 * Waits (bounded) for every watched process to be gone, and returns the ones still running when
 * the wait ran out: the leaked ones.
 */
export async function leakedAfterExit(watch: ProcessWatch, ms = 5_000): Promise<number[]> {
  try {
    await eventually(() => watch.alive().length === 0, { timeout: ms, what: "every worker process gone" });
  } catch {
    // What is left is the answer.
  }
  return watch.alive();
}

// --- configs -----------------------------------------------------------------------------------

export interface ChaosConfig {
  /** The worker command: `${WORKER_CMD}` (the recording worker) unless given, e.g. HOSTILE_CMD_YAML. */
  command?: string;
  /** More server.env entries after RECORD_FILE, as YAML flow-map text (`CRASH_FLAG: "${DIR}/crash"`). */
  env?: string;
  workers: number;
  /** pool.allocate_timeout; the server's default when not given. */
  allocateTimeout?: string;
  destroyTimeout?: string;
  /** rpc.listen on a free loopback port. */
  rpc?: boolean;
  /** control.addr on a free loopback port. */
  control?: boolean;
  /** Debug logs: per connection, opened, closed and why, for a failure's explanation (explain()). */
  debugLogs?: boolean;
  /** tcp.processes: server processes under one primary; `workers` is their total. */
  processes?: number;
}

/**
 * The `.rr.yaml` of a case for serve(): one server `main` on a free loopback port, workers that
 * record their events to `${RECORD_FILE}`. The cases differ only in the options, so they build it
 * here rather than each repeating the YAML.
 */
export function chaosConfig(options: ChaosConfig): string {
  const { command = "${WORKER_CMD}", env, workers, allocateTimeout, destroyTimeout = "5s" } = options;
  return [
    `version: "3"`,
    ...(options.rpc ? ["rpc:", "  listen: tcp://127.0.0.1:0"] : []),
    ...(options.control ? ["control:", "  addr: 127.0.0.1:0"] : []),
    "server:",
    `  command: ${command}`,
    `  env: { RECORD_FILE: "\${RECORD_FILE}"${env ? `, ${env}` : ""} }`,
    "tcp:",
    ...(options.processes ? [`  processes: ${options.processes}`] : []),
    "  servers:",
    '    main: { addr: "127.0.0.1:0" }',
    "  pool:",
    `    num_workers: ${workers}`,
    ...(allocateTimeout ? [`    allocate_timeout: ${allocateTimeout}`] : []),
    `    destroy_timeout: ${destroyTimeout}`,
    ...(options.debugLogs ? ["logs: { level: debug }"] : []),
    "",
  ].join("\n");
}

// --- the server --------------------------------------------------------------------------------

export interface Served {
  cli: Cli;
  watch: ProcessWatch;
  recording: Recording;
  dir: string;
  /** The bound port of a server. */
  port(server?: string): number;
  /** The RPC address, when the config has rpc.listen. */
  rpc: string | undefined;
  /** The address a log line starting with `prefix` names ("control API listening"). */
  logged(prefix: string): string | undefined;
  /** Resets the server's peak RSS (VmHWM), for a case that shares the server with others. */
  resetPeakRss(): void;
  /** Exit code and signal of the server, once it exited. */
  exited: Cli["exited"];
}

const running: Array<{ served: Served; cleanup: () => void }> = [];

/**
 * Writes `yaml` to a temp dir and runs `rr-tcp serve -c` on it; resolves once it is ready. In the
 * YAML, `${RECORD_FILE}` is the record file (pass it to the workers in server.env), `${DIR}` the dir.
 */
export async function serve(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const { dir, recording, cleanup } = tempRecording();
  const file = join(dir, ".rr.yaml");
  writeFileSync(file, yaml);
  const cli = runCli(["serve", "-c", file], dir, {
    WORKER_CMD: RECORDING_WORKER_CMD,
    RECORD_FILE: recording.file,
    DIR: dir,
    ...env,
  });
  const watch = new ProcessWatch(cli.child.pid!);
  const logged = (prefix: string): string | undefined =>
    cli
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => typeof l.msg === "string" && l.msg.startsWith(prefix))?.addr as string | undefined;
  const served: Served = {
    cli,
    watch,
    recording,
    dir,
    rpc: undefined,
    logged,
    resetPeakRss: () => watch.resetPeak(),
    exited: cli.exited,
    port: () => {
      throw new Error("not ready");
    },
  };
  running.push({ served, cleanup });
  const ready = await cli.log((line) => line.msg === "rr-tcp ready", "rr-tcp ready", 30_000);
  served.rpc = logged("RPC listening");
  const servers = ready.servers as Record<string, string>;
  served.port = (server = "main") => Number(servers[server]!.split(":").pop());
  return served;
}

/** Kills every server and worker a case started, and removes their temp dirs (afterEach). */
export function killEverything(): void {
  killRunningClis();
  for (const { served, cleanup } of running.splice(0)) {
    for (const r of served.recording.all()) if (r.pid > 0) served.watch.add(r.pid);
    served.watch.killAll();
    cleanup();
  }
}

/**
 * SIGTERMs the server and waits for it to exit; then waits (bounded) for every process it had to
 * be gone, and returns the leaked ones. Worker pids from the record file are watched too.
 */
export async function stopServer(served: Served, signal: NodeJS.Signals = "SIGTERM", ms = 20_000) {
  for (const r of served.recording.all()) if (r.pid > 0) served.watch.add(r.pid);
  served.cli.child.kill(signal);
  const exit = await within(served.exited, { timeout: ms, what: `rr-tcp to exit after ${signal}` });
  return { exit, ...(await afterExit(served)) };
}

/**
 * The last case of a file that shares one server: SIGTERM, and its row (the stop's time, what it
 * left running); it must exit 0 and leave no process.
 */
export async function stopServerCleanly(served: Served, name: string): Promise<void> {
  const started = performance.now();
  const { exit, leaked, peakRssMiB } = await stopServer(served);
  record({ case: name, faults: 0, leaked: leaked.length, peakRssMiB, seconds: secondsSince(started) });
  expect(exit).toEqual({ code: 0, signal: null });
  expect(leaked).toEqual([]);
}

/** A case's wall time for its row: seconds since `started` (performance.now()), to 0.1 s. */
export const secondsSince = (started: number): number => Math.round((performance.now() - started) / 100) / 10;

/** Once the server exited: its peak RSS, and the processes it left running. */
export async function afterExit(served: Served): Promise<{ peakRssMiB: number; leaked: number[] }> {
  for (const r of served.recording.all()) if (r.pid > 0) served.watch.add(r.pid);
  const peakRssMiB = served.watch.peakRssMiB();
  served.watch.stop();
  const leaked = await leakedAfterExit(served.watch);
  // The server itself: exited, so not leaked; a zombie until node reaps it.
  return { peakRssMiB, leaked };
}

// --- CLOSE accounting --------------------------------------------------------------------------

export interface CloseCounts {
  /** Connections with exactly one CLOSE. */
  closed: number;
  /** Connections the record file shows with no CLOSE, plus connections it does not show at all. */
  missingClose: number;
  /** CLOSE events beyond one per connection, and events recorded after a connection's CLOSE. */
  duplicateClose: number;
  /** Uuids recorded (connections the workers heard of). */
  connections: number;
  /** Per problem, a few uuids and their event lists, for the failure message. */
  detail: string;
  /** The uuids with a problem (no CLOSE, several, or events after it). */
  bad: string[];
}

/** `closes.detail` and the server's log lines that name one of the uuids with a problem. */
export function explain(served: Served, closes: CloseCounts): string {
  const lines = served.cli
    .stderr()
    .split("\n")
    .filter((line) => closes.bad.some((uuid) => line.includes(uuid)))
    .slice(0, 20);
  return lines.length === 0 ? closes.detail : `${closes.detail}\nserver log:\n${lines.join("\n")}`;
}

/**
 * Counts CLOSE events per connection from the record file. `expected` is the number of
 * connections the clients opened and the server accepted: each must show up, with one CLOSE last.
 */
export function closeCounts(all: Recorded[], expected: number): CloseCounts {
  const byUuid = new Map<string, string[]>();
  for (const r of all) {
    if (r.uuid === "" || r.event === "START" || r.event === "RPC") continue;
    let events = byUuid.get(r.uuid);
    if (!events) byUuid.set(r.uuid, (events = []));
    events.push(r.event);
  }
  let closed = 0;
  let missing = 0;
  let duplicate = 0;
  const bad: string[] = [];
  const badUuids: string[] = [];
  for (const [uuid, events] of byUuid) {
    const closes = events.filter((e) => e === "CLOSE").length;
    const afterClose = closes > 0 ? events.length - 1 - events.indexOf("CLOSE") - (closes - 1) : 0;
    if (closes === 0) missing++;
    else if (closes === 1 && events[events.length - 1] === "CLOSE") closed++;
    duplicate += Math.max(0, closes - 1) + afterClose;
    if (closes !== 1 || events[events.length - 1] !== "CLOSE") {
      bad.push(`${uuid}: ${events.join(",")}`);
      badUuids.push(uuid);
    }
  }
  const unseen = Math.max(0, expected - byUuid.size);
  return {
    closed,
    missingClose: missing + unseen,
    duplicateClose: duplicate,
    connections: byUuid.size,
    detail: `${byUuid.size} connections recorded, ${expected} expected; ${bad.slice(0, 5).join("; ")}`,
    bad: badUuids,
  };
}

/**
 * Waits until every connection in the record file has its CLOSE (and `expected` are there). `from`
 * counts only the records from that index on: a case on a server shared with earlier cases.
 * `keep` leaves out the records of connections whose CLOSE cannot come (a server process killed).
 */
export async function allClosed(
  recording: Recording,
  expected: number,
  ms = 20_000,
  from = 0,
  keep: (record: Recorded) => boolean = () => true,
): Promise<CloseCounts> {
  const records = (): Recorded[] => recording.all().slice(from).filter(keep);
  let counts = closeCounts(records(), expected);
  try {
    await eventually(
      () => {
        counts = closeCounts(records(), expected);
        return counts.missingClose === 0;
      },
      { timeout: ms, what: `CLOSE events for all ${expected} connections`, detail: () => counts.detail },
    );
  } catch {
    // The counts say what is missing; the case asserts them.
  }
  return closeCounts(records(), expected);
}

/** Every message answered once, on its own connection, in order, or cut with its connection. */
export function expectNoneLostOrMisdelivered(tally: Tally): void {
  expect({ lost: tally.lost, duplicated: tally.duplicated, wrong: tally.wrong, outOfOrder: tally.outOfOrder }).toEqual({
    lost: 0,
    duplicated: 0,
    wrong: 0,
    outOfOrder: 0,
  });
  expect(tally.samples).toEqual([]);
}

/** Every connection exactly one CLOSE, nothing after it; `message` explains a failure. */
export function expectOneCloseEach(closes: CloseCounts, message: string): void {
  expect({ missing: closes.missingClose, duplicate: closes.duplicateClose }, message).toEqual({
    missing: 0,
    duplicate: 0,
  });
}

// --- load clients --------------------------------------------------------------------------------

/** What a reply line says was answered: the message it echoes, or undefined if it is no echo. */
export type ReplyParser = (line: string) => string;
/** The recording worker echoes the body. */
export const echoBody: ReplyParser = (line) => line;
/** hostile-worker.mjs answers `<pid>:<body>`. */
export const pidPrefixed: ReplyParser = (line) => line.replace(/^\d+:/, "");

export interface Tally {
  sent: number;
  answered: number;
  cut: number;
  lost: number;
  duplicated: number;
  wrong: number;
  outOfOrder: number;
  /** Connections opened (and accepted). */
  connections: number;
  /** A few of the wrong lines, for the failure message. */
  samples: string[];
}

export const emptyTally = (): Tally => ({
  sent: 0,
  answered: 0,
  cut: 0,
  lost: 0,
  duplicated: 0,
  wrong: 0,
  outOfOrder: 0,
  connections: 0,
  samples: [],
});

export function addTally(into: Tally, from: Tally): Tally {
  for (const key of ["sent", "answered", "cut", "lost", "duplicated", "wrong", "outOfOrder", "connections"] as const)
    into[key] += from[key];
  into.samples.push(...from.samples.slice(0, 5 - into.samples.length));
  return into;
}

/**
 * One client of a closed loop: it sends a batch of 1..`maxBatch` messages, each tagged uniquely
 * (`m<client>.<connection>.<seq>`), waits for all their replies, and goes on until stopped. Each
 * reply line must be its own next message's echo; anything else is counted (duplicate, out of
 * order, wrong connection). When the server closes the connection, the messages without reply are
 * `cut`, and the client connects again. A message with no reply on a connection still open at
 * the end is `lost`.
 */
export class LoopClient {
  readonly tally = emptyTally();
  #conn = 0;
  #seq = 0;
  #socket: Socket | undefined;
  #pending: string[] = [];
  #answered = new Set<string>();
  #buffered = "";
  #stopping = false;
  #wake: (() => void) | undefined;
  readonly #done: Promise<void>;

  constructor(
    readonly port: number,
    readonly id: string,
    readonly options: { maxBatch?: number; parse?: ReplyParser; message?: (seq: number) => string | undefined } = {},
  ) {
    this.#done = this.#run();
  }

  /**
   * Stops sending; resolves once the last batch is answered, cut, or `ms` (scaled) ran out: a
   * reply takes milliseconds, so what is unanswered by then is lost.
   */
  async stop(ms = 5_000): Promise<Tally> {
    this.#stopping = true;
    try {
      await within(this.#done, { timeout: ms, what: `client ${this.id}'s last replies` });
    } catch {
      // Unanswered on an open connection: lost.
    }
    this.tally.lost += this.#pending.length;
    this.#pending = [];
    this.#socket?.end();
    return this.tally;
  }

  /** Closes the connection (a FIN), once stopped. */
  closed(): Promise<void> {
    const socket = this.#socket;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => socket.once("close", () => resolve()));
  }

  async #run(): Promise<void> {
    const parse = this.options.parse ?? echoBody;
    const maxBatch = this.options.maxBatch ?? 4;
    while (!this.#stopping) {
      if (!this.#socket || this.#socket.destroyed || this.#socket.readableEnded) {
        // Messages of a connection the server closed had no reply: cut.
        this.tally.cut += this.#pending.length;
        this.#pending = [];
        this.#socket?.destroy();
        this.#socket = await this.#open(parse);
        if (!this.#socket) return;
        this.#conn++;
      }
      const batch = 1 + Math.floor(Math.random() * maxBatch);
      const messages: string[] = [];
      for (let i = 0; i < batch; i++) {
        const seq = this.#seq++;
        messages.push(this.options.message?.(seq) ?? `m${this.id}.${this.#conn}.${seq}`);
      }
      this.#pending.push(...messages);
      this.tally.sent += messages.length;
      this.#socket.write(messages.map((m) => `${m}\r\n`).join(""));
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    if (this.#socket && (this.#socket.destroyed || this.#socket.readableEnded)) {
      this.tally.cut += this.#pending.length;
      this.#pending = [];
    }
  }

  #open(parse: ReplyParser): Promise<Socket | undefined> {
    return new Promise((resolve) => {
      const socket = connect({ port: this.port, host: "127.0.0.1", allowHalfOpen: true });
      socket.setNoDelay(true);
      this.#buffered = "";
      let connected = false;
      socket.once("connect", () => {
        connected = true;
        this.tally.connections++;
        resolve(socket);
      });
      socket.on("error", () => undefined);
      socket.on("data", (chunk: Buffer) => this.#onData(chunk, parse));
      socket.once("end", () => {
        socket.end();
        this.#wake?.();
      });
      socket.once("close", () => {
        // Refused before it connected (the server is stopping): nothing more to send.
        if (!connected) resolve(undefined);
        this.#wake?.();
      });
    });
  }

  #onData(chunk: Buffer, parse: ReplyParser): void {
    this.#buffered += chunk.toString("latin1");
    let at: number;
    while ((at = this.#buffered.indexOf("\r\n")) >= 0) {
      const line = this.#buffered.slice(0, at);
      this.#buffered = this.#buffered.slice(at + 2);
      this.#onLine(line, parse(line));
    }
    if (this.#pending.length === 0) this.#wake?.();
  }

  #onLine(line: string, body: string): void {
    if (this.#pending[0] === body) {
      this.#pending.shift();
      this.#answered.add(body);
      this.tally.answered++;
    } else if (this.#pending.includes(body)) {
      this.#pending.splice(this.#pending.indexOf(body), 1);
      this.#answered.add(body);
      this.tally.answered++;
      this.tally.outOfOrder++;
    } else if (this.#answered.has(body)) {
      this.tally.duplicated++;
    } else {
      this.tally.wrong++;
      if (this.tally.samples.length < 5) this.tally.samples.push(`client ${this.id} got ${JSON.stringify(line)}`);
    }
  }
}

/**
 * Stops a closed loop's clients (each's last batch answered, cut or lost) and waits for their
 * connections to close; their tallies summed.
 */
export async function stopClients(clients: LoopClient[]): Promise<Tally> {
  const tally = emptyTally();
  for (const t of await Promise.all(clients.map((c) => c.stop()))) addTally(tally, t);
  await Promise.all(clients.map((c) => c.closed()));
  return tally;
}

/** A load case's message and CLOSE columns for its row, from its clients' tally and the CLOSE counts. */
export function loadColumns(tally: Tally, closes: CloseCounts): Omit<Row, "case" | "faults"> {
  return {
    sent: tally.sent,
    answered: tally.answered,
    cut: tally.cut,
    lost: tally.lost,
    duplicated: tally.duplicated,
    wrong: tally.wrong,
    outOfOrder: tally.outOfOrder,
    ...closeColumns(closes),
  };
}

/** A case's CLOSE columns for its row; "–" (left out) when the case did not count them. */
export function closeColumns(closes: CloseCounts | undefined): Pick<Row, "closed" | "missingClose" | "duplicateClose"> {
  return { closed: closes?.closed, missingClose: closes?.missingClose, duplicateClose: closes?.duplicateClose };
}
