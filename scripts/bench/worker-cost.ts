/**
 * What one event costs a worker process, alone: this plays the server's side of the pipes relay
 * (pid handshake, CONNECTED, then DATA events one at a time: the next is sent once the reply to
 * the last is in, a closed loop), and reads the worker's CPU time from /proc before and after the
 * measured events. Optionally counts the worker's system calls with `strace -c` over a second,
 * separate run of events (strace slows the process, so its run is not the timed one).
 *
 *   [WORKER_NODE_ARGS="--cpu-prof ..."] npx tsx scripts/bench/worker-cost.ts [--events 20000] [--warmup 2000] [--reps 5]
 *                                        [--strace-events 2000] [--only ts-blocking,python] [--json]
 *                                        [--connections 1]
 *
 * Targets: the TypeScript echo worker (examples/echo-worker.ts) in serve()'s event-loop and
 * blocking modes, and the Python echo worker (examples/python/echo_worker.py). Repetitions are
 * interleaved (every target once per round, the order rotating), and the table shows medians, so
 * a busy neighbour on a shared machine weighs on every target alike.
 *
 * CPU is the worker's utime+stime over all its threads: from /proc/<pid>/task/<tid>/schedstat (ns)
 * and, as a check, /proc/<pid>/stat (clock ticks).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_MAX_PAYLOAD_SIZE,
  encodeControlFrame,
  encodePayloadFrame,
  HEADER_BASE_SIZE,
  parseControl,
  readFrameLength,
  sliceFrame,
} from "../../src/goridge/index.js";
import { jsonContextCodec } from "../../src/protocol/index.js";
import { TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const TSX = import.meta.resolve("tsx");
// Extra node flags for the TypeScript workers, e.g. WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
const NODE_ARGS = (process.env.WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean);

interface Target {
  name: string;
  command: string[];
  env: Record<string, string>;
}

const TARGETS: Target[] = [
  {
    name: "ts-event-loop",
    command: [process.execPath, ...NODE_ARGS, "--import", TSX, `${ROOT}examples/echo-worker.ts`],
    env: { RR_TCP_WORKER_MODE: "event-loop" },
  },
  {
    name: "ts-blocking",
    command: [process.execPath, ...NODE_ARGS, "--import", TSX, `${ROOT}examples/echo-worker.ts`],
    env: { RR_TCP_WORKER_MODE: "blocking" },
  },
  { name: "python", command: ["/usr/bin/python3", `${ROOT}examples/python/echo_worker.py`], env: {} },
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? (process.argv[i + 1] as string) : fallback;
}

const EVENTS = Number(arg("events", "20000"));
const WARMUP = Number(arg("warmup", "2000"));
const REPS = Number(arg("reps", "5"));
const STRACE_EVENTS = Number(arg("strace-events", "2000"));
const ONLY = arg("only", "");
// Events cycle through this many connections' contexts (their uuids and ports differ), as a
// worker's events do when it serves many clients in turn.
const CONNECTIONS = Number(arg("connections", "1"));
const JSON_OUT = process.argv.includes("--json");

/** The worker's side of the pipes, frame by frame. */
class Peer {
  readonly child: ChildProcess;
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: ((frame: Buffer) => void) | undefined;
  #frames: Buffer[] = [];
  #exited: Promise<void>;
  stderr = "";

  constructor(target: Target) {
    const [file, ...args] = target.command as [string, ...string[]];
    this.child = spawn(file, args, {
      env: { ...process.env, RR_RELAY: "pipes", RR_MODE: "tcp", ...target.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdout!.on("data", (chunk: Buffer) => this.#push(chunk));
    this.#exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  send(frame: Buffer): void {
    this.child.stdin!.write(frame);
  }

  next(): Promise<Buffer> {
    const frame = this.#frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply in 10 s; worker stderr: ${this.stderr}`)), 10_000);
      this.#waiter = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
    });
  }

  async stop(): Promise<void> {
    this.send(encodeControlFrame({ stop: true }));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }

  #push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= HEADER_BASE_SIZE) {
      const length = readFrameLength(this.#buffer, 0, DEFAULT_MAX_PAYLOAD_SIZE);
      if (this.#buffer.length < length) break;
      const frame = this.#buffer.subarray(0, length);
      this.#buffer = this.#buffer.subarray(length);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter !== undefined) waiter(frame);
      else this.#frames.push(frame);
    }
  }
}

/** CPU time of every thread of `pid`: schedstat nanoseconds, and stat clock ticks. */
function cpuOf(pid: number): { ns: number; ticks: number; userTicks: number } {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  // Fields after the command name (which is in parentheses and may hold spaces): utime is the
  // 14th field, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { ns, ticks, userTicks: Number(fields[11]) };
}

const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

const UUID = "6f1c4e1a-2b3d-4c5e-8f90-a1b2c3d4e5f6";
const context = (event: TcpEvent, connection = 0): Buffer =>
  jsonContextCodec.encode({
    remote_addr: `127.0.0.1:${54321 + connection}`,
    server: "main",
    uuid: UUID.slice(0, -4) + connection.toString(16).padStart(4, "0"),
    event,
  });
const BODY = Buffer.from("x".repeat(62) + "\r\n"); // a 64-byte line, as issue 16's load

interface Session {
  peer: Peer;
  echoIds: boolean;
  eventId: number;
}

// One request and its reply.
async function exchange(s: Session, ctx: Buffer, body: Buffer): Promise<void> {
  s.eventId = s.eventId >= 0xffffffff ? 1 : s.eventId + 1;
  s.peer.send(encodePayloadFrame(ctx, body, 0, 0, s.echoIds ? s.eventId : undefined));
  const reply = await s.peer.next();
  if ((reply[1] as number) !== 0) throw new Error(`unexpected reply flags 0x${(reply[1] as number).toString(16)}`);
}

const DATA_CONTEXTS = Array.from({ length: CONNECTIONS }, (_, i) => context(TcpEvent.DATA, i));

async function events(s: Session, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await exchange(s, DATA_CONTEXTS[i % CONNECTIONS] as Buffer, BODY);
}

interface Sample {
  cpuUsPerEvent: number;
  ticksUsPerEvent: number;
  userUsPerEvent: number;
  eventsPerSecond: number;
}

async function measure(target: Target): Promise<Sample> {
  const s = await startSession(target);
  try {
    await events(s, WARMUP);
    const before = cpuOf(s.peer.pid);
    const started = process.hrtime.bigint();
    await events(s, EVENTS);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const after = cpuOf(s.peer.pid);
    return {
      cpuUsPerEvent: (after.ns - before.ns) / 1000 / EVENTS,
      ticksUsPerEvent: ((after.ticks - before.ticks) * 1e6) / CLK_TCK / EVENTS,
      userUsPerEvent: ((after.userTicks - before.userTicks) * 1e6) / CLK_TCK / EVENTS,
      eventsPerSecond: EVENTS / seconds,
    };
  } finally {
    await endSession(s);
  }
}

async function startSession(target: Target): Promise<Session> {
  const peer = new Peer(target);
  peer.send(encodeControlFrame({ pid: process.pid }));
  const frame = await peer.next();
  const hello = parseControl(sliceFrame(frame, 0, frame.length));
  const s: Session = { peer, echoIds: hello.echo_event_id === true, eventId: 0 };
  await exchange(s, context(TcpEvent.CONNECTED), Buffer.alloc(0));
  return s;
}

async function endSession(s: Session): Promise<void> {
  await exchange(s, context(TcpEvent.CLOSE), Buffer.alloc(0)).catch(() => undefined);
  await s.peer.stop();
}

/** System calls per event, by name, from `strace -c -f -p` over STRACE_EVENTS events. */
async function syscalls(target: Target): Promise<Record<string, number>> {
  const s = await startSession(target);
  const dir = mkdtempSync(join(tmpdir(), "worker-cost-"));
  const out = join(dir, "strace.txt");
  try {
    await events(s, WARMUP);
    const strace = spawn("strace", ["-c", "-f", "-o", out, "-p", String(s.peer.pid)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    // strace says on stderr when it is attached.
    await new Promise<void>((resolve, reject) => {
      let text = "";
      strace.stderr!.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("attached")) resolve();
      });
      strace.once("exit", (code) => reject(new Error(`strace exited (${code}): ${text}`)));
    });
    // Let every thread's attach settle, then count only the events.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await events(s, STRACE_EVENTS);
    const done = new Promise((resolve) => strace.once("exit", resolve));
    strace.kill("SIGINT");
    await done;
    const perEvent: Record<string, number> = {};
    for (const line of readFileSync(out, "utf8").split("\n")) {
      // % time, seconds, usecs/call, calls, [errors], syscall
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
      if (m && m[2] !== "total") perEvent[m[2] as string] = Number(m[1]) / STRACE_EVENTS;
    }
    return perEvent;
  } finally {
    await endSession(s);
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const targets = ONLY === "" ? TARGETS : TARGETS.filter((t) => ONLY.split(",").includes(t.name));
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < REPS; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(round + i) % targets.length] as Target;
      const sample = await measure(target);
      samples.get(target.name)!.push(sample);
      if (!JSON_OUT) {
        process.stderr.write(
          `round ${round + 1} ${target.name}: ${sample.cpuUsPerEvent.toFixed(1)} µs/event ` +
            `(stat ${sample.ticksUsPerEvent.toFixed(1)}, user ${sample.userUsPerEvent.toFixed(1)}), ${Math.round(sample.eventsPerSecond)} events/s\n`,
        );
      }
    }
  }
  const calls = new Map<string, Record<string, number>>();
  if (STRACE_EVENTS > 0) {
    for (const target of targets) calls.set(target.name, await syscalls(target));
  }
  const rows = targets.map((t) => {
    const list = samples.get(t.name)!;
    const perEvent = calls.get(t.name) ?? {};
    const total = Object.values(perEvent).reduce((a, b) => a + b, 0);
    return {
      target: t.name,
      cpu_us_per_event: median(list.map((x) => x.cpuUsPerEvent)),
      cpu_us_per_event_all: list.map((x) => Number(x.cpuUsPerEvent.toFixed(2))),
      stat_us_per_event: median(list.map((x) => x.ticksUsPerEvent)),
      user_us_per_event: median(list.map((x) => x.userUsPerEvent)),
      events_per_second: median(list.map((x) => x.eventsPerSecond)),
      syscalls_per_event: total,
      syscalls: Object.fromEntries(
        Object.entries(perEvent)
          .filter(([, n]) => n >= 0.01)
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => [k, Number(n.toFixed(2))]),
      ),
    };
  });
  if (JSON_OUT) {
    process.stdout.write(
      JSON.stringify({ events: EVENTS, warmup: WARMUP, connections: CONNECTIONS, reps: REPS, rows }, null, 2) + "\n",
    );
    return;
  }
  console.log(
    `\n${EVENTS} events per run after ${WARMUP} of warm-up, ${CONNECTIONS} connection(s), ` +
      `${REPS} interleaved runs, medians`,
  );
  console.log("| worker | CPU µs/event (schedstat) | CPU µs/event (stat) | of which user | events/s | syscalls/event |");
  console.log("| --- | ---: | ---: | ---: | ---: | --- |");
  for (const r of rows) {
    const sys = Object.entries(r.syscalls)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    console.log(
      `| ${r.target} | ${r.cpu_us_per_event.toFixed(1)} | ${r.stat_us_per_event.toFixed(1)} | ` +
        `${r.user_us_per_event.toFixed(1)} | ` +
        `${Math.round(r.events_per_second)} | ${r.syscalls_per_event.toFixed(2)} (${sys}) |`,
    );
  }
}

await main();
