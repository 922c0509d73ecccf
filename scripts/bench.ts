/**
 * `npm run bench`: rr-tcp against the in-process Node echo server and against the floor of its
 * design (a C epoll forwarder with C echo workers over pipes), the same load, one run; CPU per
 * message by process and syscalls per message beside msg/s and latency; redis-benchmark against
 * redis-server and against rr-tcp with a PING worker.
 *
 *   npm run bench                  full run (about 8 minutes), writes bench/results.md
 *   npm run bench -- --quick       under 2 minutes, prints only (bench/results.md is left alone)
 *   npm run bench -- --json        also print one JSON object as the last line
 */
import { mkdirSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { benchCodec } from "./bench-codec.js";
import { buildC, startCForwarder, type CBuild } from "./bench/c-floor.js";
import { holdIdleConnections, runLoad, type HeldLoad } from "./bench/load.js";
import type { LoadResult } from "./bench/load-generator.js";
import { startNaiveForwarder } from "./bench/naive-forwarder.js";
import type { CpuTime } from "./bench/proc.js";
import { redisMissing, runRedisBenchmark, startRedisServer, type RedisBenchResult } from "./bench/redis.js";
import { straceMissing, traceSyscalls, type SyscallCount } from "./bench/strace.js";
import { startInProcessEcho, startRrTcp, type RunningTarget } from "./bench/targets.js";
import { ECHO_WORKER_COMMAND, PING_WORKER_COMMAND, PYTHON_ECHO_WORKER_COMMAND } from "./bench/worker-commands.js";

const quick = process.argv.includes("--quick");
const asJson = process.argv.includes("--json");
const root = new URL("../", import.meta.url).pathname;
const timing = quick ? { warmupMs: 400, durationMs: 1200 } : { warmupMs: 2000, durationMs: 8000 };
const roundTiming = quick ? timing : { warmupMs: 1000, durationMs: 4000 };
/** Replies counted under strace, in a phase after each target's 64-connection window. */
const TRACED_MESSAGES = quick ? 1000 : 5000;
const REDIS_REQUESTS = quick
  ? { redis: 20_000, redisPipelined: 100_000, rrTcp: 5000 }
  : { redis: 100_000, redisPipelined: 500_000, rrTcp: 30_000 };
const NUM_WORKERS = 2;
const IDLE_CONNECTIONS = 10_000;
const loadAtStart = loadavg();
const startedAt = Date.now();
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(0)} s`;

interface Scenario {
  key: string;
  label: string;
  connections: number;
  messageBytes: number;
}
const scenarios: Scenario[] = [
  { key: "c64", label: "64 conns, 64 B", connections: 64, messageBytes: 64 },
  { key: "c1", label: "1 conn, 64 B", connections: 1, messageBytes: 64 },
  { key: "c64_4k", label: "64 conns, 4 KiB", connections: 64, messageBytes: 4096 },
];
/** The scenario whose rows also get syscall counts, and which the ratios and the JSON use. */
const TRACED = "c64";

const notes: string[] = [];
const cBuild: CBuild | string = buildC();
if (typeof cBuild === "string") notes.push(`C forwarder rows: skipped (${cBuild}).`);
const strace = straceMissing();
let straceSkip: string | undefined = strace;

interface Target {
  key: string;
  label: string;
  start(): Promise<RunningTarget>;
  skip?: string;
}
const cSkip = typeof cBuild === "string" ? cBuild : undefined;
const targets: Target[] = [
  { key: "limit", label: "in-process Node echo (limit)", start: startInProcessEcho },
  {
    key: "c_floor",
    label: `C forwarder, ${NUM_WORKERS} C workers (the floor)`,
    start: () => startCForwarder(cBuild as CBuild, NUM_WORKERS),
    skip: cSkip,
  },
  {
    key: "naive",
    label: `naive Node forwarder, ${NUM_WORKERS} TS workers`,
    start: () => startNaiveForwarder(ECHO_WORKER_COMMAND, NUM_WORKERS),
  },
  {
    key: "rr_c",
    label: `rr-tcp server, ${NUM_WORKERS} C echo workers, JSON context`,
    start: () =>
      startRrTcp({ command: [(cBuild as CBuild).echoWorker], numWorkers: NUM_WORKERS, contextCodec: "json" }),
    skip: cSkip,
  },
  {
    key: "rr_c_no_ids",
    label: `rr-tcp server, ${NUM_WORKERS} C echo workers without event ids (PHP's case: held after replies)`,
    start: () =>
      startRrTcp({
        command: [(cBuild as CBuild).echoWorker],
        numWorkers: NUM_WORKERS,
        contextCodec: "json",
        workerEnv: { ECHO_EVENT_ID: "0" },
      }),
    skip: cSkip,
  },
  {
    key: "rr_json",
    label: `rr-tcp, ${NUM_WORKERS} TS workers, JSON context`,
    start: () => startRrTcp({ command: ECHO_WORKER_COMMAND, numWorkers: NUM_WORKERS, contextCodec: "json" }),
  },
  {
    key: "rr_json_2proc",
    label: `rr-tcp, 2 server processes, ${NUM_WORKERS} TS workers (one each), JSON context`,
    start: () =>
      startRrTcp({ command: ECHO_WORKER_COMMAND, numWorkers: NUM_WORKERS, contextCodec: "json", processes: 2 }),
  },
  {
    key: "rr_proto",
    label: `rr-tcp, ${NUM_WORKERS} TS workers, protobuf context`,
    start: () => startRrTcp({ command: ECHO_WORKER_COMMAND, numWorkers: NUM_WORKERS, contextCodec: "proto" }),
  },
  {
    key: "rr_python",
    label: `rr-tcp, ${NUM_WORKERS} Python workers, JSON context`,
    start: () => startRrTcp({ command: PYTHON_ECHO_WORKER_COMMAND, numWorkers: NUM_WORKERS, contextCodec: "json" }),
    skip: PYTHON_ECHO_WORKER_COMMAND.slice(0, 2).find((path) => !existsSync(path)),
  },
];

interface Syscalls {
  /** Per message on the server process, all threads. */
  server: number;
  /** Per event on a worker: every worker traced together, their calls over the messages. */
  worker?: number;
  serverTop: string;
  workerTop?: string;
}
interface Row {
  result: LoadResult;
  syscalls?: Syscalls;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) * 1024;
}

async function settledRss(pid: number): Promise<number> {
  // CONNECTED events of thousands of connections take a moment to drain through the workers.
  let last = rssBytes(pid);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = rssBytes(pid);
    if (Math.abs(now - last) < 256 * 1024) return now;
    last = now;
  }
  return last;
}

async function measureIdleMemory(): Promise<{ before: number; after: number; perConnection: number }> {
  const target = await startWithRetry(() =>
    startRrTcp({ command: ECHO_WORKER_COMMAND, numWorkers: NUM_WORKERS, contextCodec: "json" }),
  );
  try {
    const before = await settledRss(target.pid);
    const held = await holdIdleConnections("127.0.0.1", target.port, IDLE_CONNECTIONS);
    const after = await settledRss(target.pid);
    await held.release();
    return { before, after, perConnection: (after - before) / IDLE_CONNECTIONS };
  } finally {
    await target.stop();
  }
}

/** The three heaviest syscalls, per message: "write 2.0, read 2.0, epoll_wait 0.6". */
function topCalls(count: SyscallCount, messages: number): string {
  return [...count.byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, n]) => `${name} ${(n / messages).toFixed(1)}`)
    .join(", ");
}

/**
 * Counts syscalls over about TRACED_MESSAGES replies of a load that is still running: strace on
 * the server and, separately, on all its workers, attached after the timed window has ended.
 * Each count is divided by the replies from the moment its strace reported every thread
 * attached to the moment it was interrupted.
 */
async function countSyscalls(running: RunningTarget, held: HeldLoad): Promise<Syscalls> {
  // Workers first: the server's strace follows forks (-f), and when the server is this process
  // it would otherwise trace the second strace too.
  const workers = running.workerPids.length ? await traceSyscalls(running.workerPids) : undefined;
  const workersFrom = await held.mark();
  const server = await traceSyscalls(running.serverPids ?? [running.pid]).catch((err: unknown) => {
    workers?.interrupt();
    throw err;
  });
  const serverFrom = await held.mark();
  await held.count(TRACED_MESSAGES);
  // Each count ends at its SIGINT: once strace has detached the processes run at full speed
  // while it writes its summary, and replies from then on were not traced.
  server.interrupt();
  const serverMessages = (await held.mark()) - serverFrom;
  workers?.interrupt();
  const workerMessages = (await held.mark()) - workersFrom;
  const [serverCount, workerCount] = await Promise.all([server.result(), workers?.result()]);
  return {
    server: serverCount.calls / serverMessages,
    worker: workerCount ? workerCount.calls / workerMessages : undefined,
    serverTop: topCalls(serverCount, serverMessages),
    workerTop: workerCount ? topCalls(workerCount, workerMessages) : undefined,
  };
}

/**
 * Starts a target, trying three times: on a machine where others edit the same checkout, a
 * server can fail to start while a generated file is being rewritten.
 */
async function startWithRetry(start: () => Promise<RunningTarget>): Promise<RunningTarget> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt === 3) throw err;
      process.stderr.write(`bench: start failed (${(err as Error).message}), trying again\n`);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

/**
 * Starts a target (startWithRetry), runs `use` on it and stops it, however `use` ends. A target
 * that does not start becomes a note naming `label`, and the answer is undefined.
 */
async function withTarget<T>(
  label: string,
  start: () => Promise<RunningTarget>,
  use: (running: RunningTarget) => Promise<T>,
): Promise<T | undefined> {
  let running: RunningTarget;
  try {
    running = await startWithRetry(start);
  } catch (err) {
    notes.push(`${label}: failed to start (${(err as Error).message}).`);
    return undefined;
  }
  try {
    return await use(running);
  } finally {
    await running.stop();
  }
}

// First, while this process is fresh: after the in-process targets its heap is full of their
// garbage, which made the same codec measure 1,015 ns/frame instead of 600-700.
const codec = await benchCodec();
const results = new Map<string, Map<string, Row>>();
for (const target of targets) {
  if (target.skip) {
    if (target.skip !== cSkip) notes.push(`${target.label}: skipped (${target.skip} not found).`);
    continue;
  }
  const byScenario = await withTarget(target.label, target.start, async (running) => {
    const rows = new Map<string, Row>();
    for (const scenario of scenarios) {
      const traced = scenario.key === TRACED && !straceSkip;
      const { result, held } = await runLoad({
        host: "127.0.0.1",
        port: running.port,
        connections: scenario.connections,
        messageBytes: scenario.messageBytes,
        ...timing,
        cpu: { server: running.serverPids ?? [running.pid], workers: running.workerPids },
        hold: traced,
      });
      const row: Row = { result };
      if (held) {
        try {
          row.syscalls = await countSyscalls(running, held);
        } catch (err) {
          straceSkip = `strace could not attach: ${(err as Error).message}`;
        } finally {
          await held.stop();
        }
      }
      rows.set(scenario.key, row);
      const s = row.syscalls;
      process.stderr.write(
        `bench [${elapsed()}]: ${target.label} / ${scenario.label}: ${Math.round(result.rps)} msg/s, p50 ${result.p50_us.toFixed(0)} µs, p99 ${result.p99_us.toFixed(0)} µs, CPU µs/msg ${cpuCell(result.cpu, result.messages)}${s ? `, syscalls/msg ${s.server.toFixed(1)} / ${s.worker?.toFixed(1) ?? "-"}` : ""}\n`,
      );
    }
    return rows;
  });
  if (byScenario) results.set(target.key, byScenario);
}

// --- Interleaved rounds against the floor ----------------------------------------------------------
// One window per row, minutes apart, moves with whatever else the machine does: the floor ratios
// read 0.41 to 0.59 over three full runs of one commit. So the rows they compare run again, in
// turn, ROUNDS times; each round's ratios are taken within the round, and their medians reported.
const ROUNDS = quick ? 1 : 5;
const ROUND_KEYS = ["c_floor", "rr_c", "rr_c_no_ids", "rr_json", "rr_json_2proc", "rr_python"];
const roundResults = new Map<string, LoadResult[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const key of ROUND_KEYS) {
    const target = targets.find((t) => t.key === key);
    if (!target || target.skip) continue;
    await withTarget(`${target.label}, round ${round + 1}`, target.start, async (running) => {
      const { result } = await runLoad({
        host: "127.0.0.1",
        port: running.port,
        connections: 64,
        messageBytes: 64,
        ...roundTiming,
        cpu: { server: running.serverPids ?? [running.pid], workers: running.workerPids },
      });
      roundResults.set(key, [...(roundResults.get(key) ?? []), result]);
      process.stderr.write(
        `bench [${elapsed()}]: round ${round + 1}/${ROUNDS} ${target.label}: ${Math.round(result.rps)} msg/s\n`,
      );
    });
  }
}

interface RedisRow {
  key: string;
  label: string;
  pipeline: number;
  result: RedisBenchResult;
}
const redisRows: RedisRow[] = [];
const redisSkip = redisMissing();
if (redisSkip) {
  notes.push(`redis rows: skipped (${redisSkip}).`);
} else {
  const runs: { key: string; label: string; start(): Promise<RunningTarget>; requests: [number, number] }[] = [
    {
      key: "redis",
      label: "redis-server",
      start: startRedisServer,
      requests: [REDIS_REQUESTS.redis, REDIS_REQUESTS.redisPipelined],
    },
    {
      key: "rr_ping",
      label: `rr-tcp, ${NUM_WORKERS} TS PING workers`,
      start: () => startRrTcp({ command: PING_WORKER_COMMAND, numWorkers: NUM_WORKERS, contextCodec: "json" }),
      requests: [REDIS_REQUESTS.rrTcp, REDIS_REQUESTS.rrTcp],
    },
  ];
  for (const run of runs) {
    await withTarget(run.label, run.start, async (running) => {
      for (const [i, pipeline] of [1, 16].entries()) {
        const result = await runRedisBenchmark(running, { requests: run.requests[i]!, pipeline });
        redisRows.push({ key: run.key, label: run.label, pipeline, result });
        process.stderr.write(
          `bench [${elapsed()}]: ${run.label} / redis-benchmark -P ${pipeline}: ${Math.round(result.rps)} req/s, CPU µs/req ${cpuCell(result.cpu, result.requests)}\n`,
        );
      }
    });
  }
}
const memory = await measureIdleMemory();
process.stderr.write(`bench [${elapsed()}]: idle memory measured\n`);
if (typeof cBuild !== "string") cBuild.remove();
if (straceSkip) notes.push(`syscalls per message: skipped (${straceSkip}).`);

// --- Report -------------------------------------------------------------------------------------

function cpuUs(cpu: Record<string, CpuTime>, group: string, messages: number): number | undefined {
  const t = cpu[group];
  return t ? (t.user + t.system) / messages : undefined;
}
/** "server / workers / loadgen = total", µs per message. */
function cpuCell(cpu: Record<string, CpuTime>, messages: number): string {
  const server = cpuUs(cpu, "server", messages) ?? 0;
  const workers = cpuUs(cpu, "workers", messages) ?? 0;
  const loadgen = cpuUs(cpu, "loadgen", messages) ?? 0;
  const w = workers > 0 ? fmt(workers, 1) : "–";
  return `${fmt(server, 1)} / ${w} / ${fmt(loadgen, 1)} = ${fmt(server + workers + loadgen, 1)}`;
}
const totalCpu = (r: LoadResult) =>
  ["server", "workers", "loadgen"].reduce((sum, g) => sum + (cpuUs(r.cpu, g, r.messages) ?? 0), 0);

const get = (target: string, scenario: string) => results.get(target)?.get(scenario);
function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n)
    ? "-"
    : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? a / b : undefined);
const round = (n: number | undefined, digits = 0) => (n === undefined ? null : +n.toFixed(digits));

const lines: string[] = [];
const stamp = (d: Date) => d.toISOString().slice(0, 16).replace("T", " ");
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
lines.push(`# rr-tcp benchmark`, "");
lines.push(
  `${stamp(new Date(startedAt))}–${stamp(new Date()).slice(11)} UTC; ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; load average ${load(loadAtStart)} at the start, ${load(loadavg())} at the end; ${quick ? "quick run" : "full run"}: per row a warm-up of ${timing.warmupMs} ms, then a window of a fixed message count (the warm-up rate times ${timing.durationMs} ms).`,
  "",
);
lines.push(
  "| target | load | msg/s | vs C floor | CPU µs/msg: server / workers / loadgen = total | syscalls/msg: server / worker | p50 µs | p99 µs | p50 added µs |",
  "| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: |",
);
for (const target of targets) {
  for (const scenario of scenarios) {
    const row = get(target.key, scenario.key);
    if (!row) continue;
    const r = row.result;
    const floor = get("c_floor", scenario.key)?.result;
    const limit = get("limit", scenario.key)?.result;
    const added = limit ? r.p50_us - limit.p50_us : undefined;
    const s = row.syscalls;
    const sys = s ? `${fmt(s.server, 1)} / ${s.worker === undefined ? "–" : fmt(s.worker, 1)}` : "";
    lines.push(
      `| ${target.label} | ${scenario.label} | ${fmt(r.rps)} | ${fmt(ratio(r.rps, floor?.rps), 2)} | ${cpuCell(r.cpu, r.messages)} | ${sys} | ${fmt(r.p50_us)} | ${fmt(r.p99_us)} | ${target.key === "limit" ? "-" : fmt(added)} |`,
    );
  }
}

const floor = get("c_floor", TRACED);
const ts = get("rr_json", TRACED);
const rrC = get("rr_c", TRACED);
const py = get("rr_python", TRACED);
const perMsg = (row: Row | undefined, group: string) =>
  row ? cpuUs(row.result.cpu, group, row.result.messages) : undefined;
if (floor) {
  lines.push("", "Against the floor, 64 connections of 64 B (the issue's targets in brackets):", "");
  lines.push("| measure | value |", "| --- | ---: |");
  lines.push(
    `| rr-tcp with TS workers: msg/s over the C forwarder's (>= 0.5, aiming at 0.6) | ${fmt(ratio(ts?.result.rps, floor.result.rps), 2)} |`,
  );
  lines.push(
    `| rr-tcp with TS workers: CPU per message, all processes, over the C floor's (<= 1.8) | ${fmt(ratio(ts && totalCpu(ts.result), totalCpu(floor.result)), 2)} |`,
  );
  lines.push(
    `| rr-tcp server with C workers: server CPU per message over the C forwarder's (<= 2) | ${fmt(ratio(perMsg(rrC, "server"), perMsg(floor, "server")), 2)} |`,
  );
  lines.push(
    `| rr-tcp server with C workers: msg/s over the C forwarder's (>= 0.7) | ${fmt(ratio(rrC?.result.rps, floor.result.rps), 2)} |`,
  );
  lines.push(
    `| TS worker CPU per event, µs, against the Python worker's (<=) | ${fmt(perMsg(ts, "workers"), 1)} against ${fmt(perMsg(py, "workers"), 1)} |`,
  );
  if (ts?.syscalls?.worker !== undefined) {
    lines.push(`| TS worker syscalls per event (2) | ${fmt(ts.syscalls.worker, 1)} |`);
  }
}

/** Per round, `measure` of that round's results (undefined if a row is missing); the median. */
function roundMedian(measure: (r: (key: string) => LoadResult | undefined) => number | undefined): number | undefined {
  const values: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const value = measure((key) => roundResults.get(key)?.[i]);
    if (value !== undefined && Number.isFinite(value)) values.push(value);
  }
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1]! + values[mid]!) / 2;
}
const roundCpu = (r: LoadResult | undefined, group: string) => (r ? cpuUs(r.cpu, group, r.messages) : undefined);
const roundMeasures = {
  tsRps: roundMedian((r) => ratio(r("rr_json")?.rps, r("c_floor")?.rps)),
  tsCpu: roundMedian((r) => ratio(r("rr_json") && totalCpu(r("rr_json")!), r("c_floor") && totalCpu(r("c_floor")!))),
  cServerCpu: roundMedian((r) => ratio(roundCpu(r("rr_c"), "server"), roundCpu(r("c_floor"), "server"))),
  cRps: roundMedian((r) => ratio(r("rr_c")?.rps, r("c_floor")?.rps)),
  holdRps: roundMedian((r) => ratio(r("rr_c_no_ids")?.rps, r("rr_c")?.rps)),
  tsWorker: roundMedian((r) => roundCpu(r("rr_json"), "workers")),
  pyWorker: roundMedian((r) => roundCpu(r("rr_python"), "workers")),
  twoRps: roundMedian((r) => ratio(r("rr_json_2proc")?.rps, r("rr_json")?.rps)),
  twoServerCpu: roundMedian((r) => ratio(roundCpu(r("rr_json_2proc"), "server"), roundCpu(r("rr_json"), "server"))),
  twoTotalCpu: roundMedian((r) =>
    ratio(r("rr_json_2proc") && totalCpu(r("rr_json_2proc")!), r("rr_json") && totalCpu(r("rr_json")!)),
  ),
};
if (roundResults.has("c_floor")) {
  lines.push(
    "",
    `The same measures as medians of ${ROUNDS} interleaved rounds (each round runs the floor, rr-tcp with C workers with and without event ids, with TS workers in one and in two server processes, and with Python workers, in turn, 64 connections of 64 B, a window of the warm-up rate times ${roundTiming.durationMs} ms; each ratio is taken within its round):`,
    "",
    "| measure | median |",
    "| --- | ---: |",
    `| rr-tcp with TS workers: msg/s over the C forwarder's (>= 0.5, aiming at 0.6) | ${fmt(roundMeasures.tsRps, 2)} |`,
    `| rr-tcp with TS workers: CPU per message, all processes, over the C floor's (<= 1.8) | ${fmt(roundMeasures.tsCpu, 2)} |`,
    `| rr-tcp server with C workers: server CPU per message over the C forwarder's (<= 2) | ${fmt(roundMeasures.cServerCpu, 2)} |`,
    `| rr-tcp server with C workers: msg/s over the C forwarder's (>= 0.7) | ${fmt(roundMeasures.cRps, 2)} |`,
    `| C workers without event ids (held after replies): msg/s over the same workers with ids | ${fmt(roundMeasures.holdRps, 2)} |`,
    `| TS worker CPU per event, µs, against the Python worker's (<=) | ${fmt(roundMeasures.tsWorker, 1)} against ${fmt(roundMeasures.pyWorker, 1)} |`,
    `| 2 server processes (tcp.processes) against 1, TS workers: msg/s | ${fmt(roundMeasures.twoRps, 2)} |`,
    `| 2 server processes against 1: server CPU per message (primary and both processes) | ${fmt(roundMeasures.twoServerCpu, 2)} |`,
    `| 2 server processes against 1: CPU per message, all processes | ${fmt(roundMeasures.twoTotalCpu, 2)} |`,
  );
}

if (redisRows.length) {
  lines.push("", "redis-benchmark -t ping_inline -c 50, a fixed request count (-n) per row:", "");
  lines.push(
    "| target | redis-benchmark | req/s | vs redis-server | CPU µs/req: server / workers / redis-benchmark = total | p50 µs | p99 µs |",
    "| --- | --- | ---: | ---: | --- | ---: | ---: |",
  );
  for (const row of redisRows) {
    const redis = redisRows.find((r) => r.key === "redis" && r.pipeline === row.pipeline);
    lines.push(
      `| ${row.label} | ${row.pipeline > 1 ? `-P ${row.pipeline}` : "no pipelining"}, -n ${row.result.requests.toLocaleString("en-US")} | ${fmt(row.result.rps)} | ${fmt(ratio(row.result.rps, redis?.result.rps), 3)} | ${cpuCell(row.result.cpu, row.result.requests)} | ${fmt(row.result.p50_us)} | ${fmt(row.result.p99_us)} |`,
    );
  }
}

lines.push("", "| measure | value |", "| --- | ---: |");
lines.push(`| rr-tcp server RSS, idle | ${fmt(memory.before / 1024 / 1024, 1)} MiB |`);
lines.push(
  `| rr-tcp server RSS with ${IDLE_CONNECTIONS.toLocaleString("en-US")} idle connections | ${fmt(memory.after / 1024 / 1024, 1)} MiB |`,
);
lines.push(`| RSS per idle connection | ${fmt(memory.perConnection / 1024, 2)} KiB |`);
lines.push(
  `| goridge codec: DATA frame (1 KiB body) encode + decode | ${fmt(codec.nsPerFrame)} ns/frame, ${fmt(codec.framesPerSec)} frames/s |`,
);

const serverTops = targets
  .map((t) => [t, get(t.key, TRACED)?.syscalls] as const)
  .filter(([, s]) => s)
  .map(([t, s]) => `${t.label}: server ${s!.serverTop}${s!.workerTop ? `; workers ${s!.workerTop}` : ""}`);
lines.push("", "How these are measured:", "");
lines.push(
  "- **msg/s, p50, p99**: the load generator (scripts/bench/load-generator.ts) in its own process, closed loop: each connection sends one message and waits for the whole reply. The window ends at a fixed count of replies, set from the warm-up's rate; msg/s is that count over the window's time.",
  "- **CPU µs/msg**: utime + stime from /proc/PID/stat (every thread) of the server, of its workers (summed) and of the load generator, read by the load generator at the start of the window and in the handler of its last reply, divided by the exact reply count. One clock tick is 10 ms, so short rows carry ±1 tick per process. The in-process echo and the naive forwarder run in the bench process itself, so their server figure is that process. For redis-benchmark: the same reads around a fixed -n; redis-benchmark's own time from the bench process's cutime + cstime once it has exited.",
  straceSkip
    ? "- **syscalls/msg**: not measured in this run (see below)."
    : `- **syscalls/msg**: after each target's timed 64-connection window the same load keeps running; \`strace -c -f -p\` attaches to the server (every thread) and a second strace to all its workers together, for about ${TRACED_MESSAGES.toLocaleString("en-US")} more replies; each strace's calls over the replies counted from when it had attached to every thread until it was interrupted (a worker's figure is per event, since each message is one event on one worker). Tracing slows the traced processes, which does not change what they call per message but can change how many epoll waits come back empty; it never overlaps the timed window.`,
);
if (serverTops.length) lines.push(`- Heaviest syscalls per message: ${serverTops.join(". ")}.`);
if (notes.length) lines.push("", ...notes.map((n) => `- ${n}`));
const table = lines.join("\n") + "\n";
if (!quick) {
  mkdirSync(join(root, "bench"), { recursive: true });
  writeFileSync(join(root, "bench/results.md"), table);
}
process.stdout.write(table);
if (quick) process.stdout.write("\n(quick run: bench/results.md left as it is)\n");

if (asJson) {
  const limit = get("limit", "c64")?.result;
  const json = get("rr_json", "c64")?.result;
  const proto = get("rr_proto", "c64")?.result;
  const naive = get("naive", "c64")?.result;
  const c1 = get("rr_json", "c1")?.result;
  const limit1 = get("limit", "c1")?.result;
  const added1 = c1 && limit1 ? c1.p50_us - limit1.p50_us : undefined;
  const redisPing = (key: string, pipeline: number) =>
    redisRows.find((r) => r.key === key && r.pipeline === pipeline)?.result.rps;
  const summary = {
    limit_rps: round(limit?.rps),
    rr_json_rps: round(json?.rps),
    rr_proto_rps: round(proto?.rps),
    naive_rps: naive ? Math.round(naive.rps) : null,
    ratio_naive: round(ratio(naive?.rps, limit?.rps), 3),
    rr_python_rps: py ? Math.round(py.result.rps) : null,
    ratio_json: round(ratio(json?.rps, limit?.rps), 3),
    ratio_proto: round(ratio(proto?.rps, limit?.rps), 3),
    p99_us_limit: round(limit?.p99_us),
    p99_us_json: round(json?.p99_us),
    p50_added_us_1conn: round(added1),
    bytes_per_idle_conn: Math.round(memory.perConnection),
    codec_ns_per_frame: Math.round(codec.nsPerFrame),
    server_cpu_us_per_msg: round(perMsg(ts, "server"), 1),
    worker_cpu_us_per_msg: round(perMsg(ts, "workers"), 1),
    loadgen_cpu_us_per_msg: round(perMsg(ts, "loadgen"), 1),
    c_forwarder_rps: floor ? Math.round(floor.result.rps) : null,
    ratio_to_c_floor: round(ratio(json?.rps, floor?.result.rps), 3),
    c_forwarder_server_cpu_us_per_msg: round(perMsg(floor, "server"), 1),
    c_floor_total_cpu_us_per_msg: floor ? round(totalCpu(floor.result), 1) : null,
    rr_total_cpu_us_per_msg: json ? round(totalCpu(json), 1) : null,
    rr_c_workers_rps: rrC ? Math.round(rrC.result.rps) : null,
    rr_c_workers_server_cpu_us_per_msg: round(perMsg(rrC, "server"), 1),
    python_worker_cpu_us_per_msg: round(perMsg(py, "workers"), 1),
    rounds: ROUNDS,
    ratio_to_c_floor_median: round(roundMeasures.tsRps, 3),
    cpu_ratio_to_c_floor_median: round(roundMeasures.tsCpu, 3),
    rr_c_server_cpu_ratio_median: round(roundMeasures.cServerCpu, 3),
    rr_c_rps_ratio_median: round(roundMeasures.cRps, 3),
    reply_hold_rps_ratio_median: round(roundMeasures.holdRps, 3),
    two_processes_rps_ratio_median: round(roundMeasures.twoRps, 3),
    two_processes_server_cpu_ratio_median: round(roundMeasures.twoServerCpu, 3),
    two_processes_total_cpu_ratio_median: round(roundMeasures.twoTotalCpu, 3),
    server_syscalls_per_msg: round(ts?.syscalls?.server, 2),
    worker_syscalls_per_event: round(ts?.syscalls?.worker, 2),
    redis_rps: round(redisPing("redis", 1)),
    redis_pipelined_rps: round(redisPing("redis", 16)),
    rr_ping_rps: round(redisPing("rr_ping", 1)),
    rr_ping_pipelined_rps: round(redisPing("rr_ping", 16)),
  };
  process.stdout.write(JSON.stringify(summary) + "\n");
}
