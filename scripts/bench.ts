/**
 * `npm run bench`: rr-tcp against the in-process Node echo server, the same load, one run.
 *
 *   npm run bench                  full run (about 3 minutes)
 *   npm run bench -- --quick       under a minute
 *   npm run bench -- --json        also print one JSON object as the last line
 *
 * Writes the Markdown table to bench/results.md as well as stdout.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { benchCodec } from "./bench-codec.js";
import { holdIdleConnections, runLoad } from "./bench/load.js";
import type { LoadResult } from "./bench/load-generator.js";
import { startNaiveForwarder } from "./bench/naive-forwarder.js";
import { startInProcessEcho, startRrTcp, type RunningTarget } from "./bench/targets.js";
import { ECHO_WORKER_COMMAND, PYTHON_ECHO_WORKER_COMMAND } from "./bench/worker-commands.js";

const quick = process.argv.includes("--quick");
const asJson = process.argv.includes("--json");
const root = new URL("../", import.meta.url).pathname;
const timing = quick ? { warmupMs: 500, durationMs: 2000 } : { warmupMs: 2000, durationMs: 10_000 };
const NUM_WORKERS = 2;
const IDLE_CONNECTIONS = 10_000;

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

interface Target {
  key: string;
  label: string;
  start(): Promise<RunningTarget>;
  skip?: string;
}
const targets: Target[] = [
  { key: "limit", label: "in-process Node echo (limit)", start: startInProcessEcho },
  {
    key: "naive",
    label: `naive one-hop forwarder, ${NUM_WORKERS} TS workers (reference)`,
    start: () => startNaiveForwarder(ECHO_WORKER_COMMAND, NUM_WORKERS),
  },
  {
    key: "rr_json",
    label: `rr-tcp, ${NUM_WORKERS} TS workers, JSON context`,
    start: () => startRrTcp({ command: ECHO_WORKER_COMMAND, numWorkers: NUM_WORKERS, contextCodec: "json" }),
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
  const target = await startRrTcp({ command: ECHO_WORKER_COMMAND, numWorkers: NUM_WORKERS, contextCodec: "json" });
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

// First, while this process is fresh: after the in-process targets its heap is full of their
// garbage, which made the same codec measure 1,015 ns/frame instead of 600-700.
const codec = await benchCodec();
const results = new Map<string, Map<string, LoadResult>>();
const notes: string[] = [];
for (const target of targets) {
  if (target.skip) {
    notes.push(`${target.label}: skipped (${target.skip} not found).`);
    continue;
  }
  const running = await target.start();
  const byScenario = new Map<string, LoadResult>();
  try {
    for (const scenario of scenarios) {
      const result = await runLoad({
        host: "127.0.0.1",
        port: running.port,
        connections: scenario.connections,
        messageBytes: scenario.messageBytes,
        ...timing,
      });
      byScenario.set(scenario.key, result);
      process.stderr.write(
        `bench: ${target.label} / ${scenario.label}: ${Math.round(result.rps)} msg/s, p50 ${result.p50_us.toFixed(0)} µs, p99 ${result.p99_us.toFixed(0)} µs\n`,
      );
    }
  } finally {
    await running.stop();
  }
  results.set(target.key, byScenario);
}
const memory = await measureIdleMemory();

const get = (target: string, scenario: string) => results.get(target)?.get(scenario);
const fmt = (n: number | undefined, digits = 0) =>
  n === undefined ? "-" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const lines: string[] = [];
lines.push(`# rr-tcp benchmark`, "");
lines.push(
  `${new Date().toISOString().slice(0, 10)}; ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; ${quick ? "quick run" : "full run"}: warm-up ${timing.warmupMs} ms, then ${timing.durationMs} ms per row; load generator in its own process, closed loop (send, wait for the whole reply).`,
  "",
);
lines.push(
  "| target | load | msg/s | vs limit | p50 µs | p99 µs | p50 added µs |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
);
for (const target of targets) {
  for (const scenario of scenarios) {
    const r = get(target.key, scenario.key);
    if (!r) continue;
    const limit = get("limit", scenario.key);
    const ratio = limit ? r.rps / limit.rps : undefined;
    const added = limit ? r.p50_us - limit.p50_us : undefined;
    lines.push(
      `| ${target.label} | ${scenario.label} | ${fmt(r.rps)} | ${fmt(ratio, 2)} | ${fmt(r.p50_us)} | ${fmt(r.p99_us)} | ${target.key === "limit" ? "-" : fmt(added)} |`,
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
if (notes.length) lines.push("", ...notes.map((n) => `- ${n}`));
const table = lines.join("\n") + "\n";
mkdirSync(join(root, "bench"), { recursive: true });
writeFileSync(join(root, "bench/results.md"), table);
process.stdout.write(table);

if (asJson) {
  const limit = get("limit", "c64")!;
  const json = get("rr_json", "c64")!;
  const proto = get("rr_proto", "c64")!;
  const summary = {
    limit_rps: Math.round(limit.rps),
    rr_json_rps: Math.round(json.rps),
    rr_proto_rps: Math.round(proto.rps),
    naive_rps: get("naive", "c64") ? Math.round(get("naive", "c64")!.rps) : null,
    ratio_naive: get("naive", "c64") ? +(get("naive", "c64")!.rps / limit.rps).toFixed(3) : null,
    rr_python_rps: get("rr_python", "c64") ? Math.round(get("rr_python", "c64")!.rps) : null,
    ratio_json: +(json.rps / limit.rps).toFixed(3),
    ratio_proto: +(proto.rps / limit.rps).toFixed(3),
    p99_us_limit: Math.round(limit.p99_us),
    p99_us_json: Math.round(json.p99_us),
    p50_added_us_1conn: Math.round(get("rr_json", "c1")!.p50_us - get("limit", "c1")!.p50_us),
    bytes_per_idle_conn: Math.round(memory.perConnection),
    codec_ns_per_frame: Math.round(codec.nsPerFrame),
  };
  process.stdout.write(JSON.stringify(summary) + "\n");
}
