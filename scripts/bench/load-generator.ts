/**
 * The benchmark's load generator, run in its own process so it does not share an event loop with
 * the server it measures. C connections in a closed loop: each sends one message and waits for
 * the whole reply before sending the next.
 *
 * A warm-up of `warmupMs` first; its rate sets the window's message count (enough for about
 * `durationMs`), unless `messages` fixes it. The window then runs until exactly that many replies
 * have arrived; msg/s, latencies and the CPU time of this process and of every pid in `cpu` are
 * taken over it, so CPU per message divides by an exact count.
 *
 * Input: one JSON argument (LoadSpec). Output: one JSON line (LoadResult) on stdout. With `hold`
 * the load goes on after that line, for a traced phase, and stdin takes commands, one a line:
 * `mark` answers {"total":N}, the replies so far; `count N` answers {"counted":N} once N more
 * replies have arrived; the end of stdin stops.
 */
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { cpuDelta, cpuOf, cpuOfAll, type CpuTime } from "./proc.js";

export interface LoadSpec {
  host: string;
  port: number;
  connections: number;
  messageBytes: number;
  warmupMs: number;
  durationMs: number;
  /** The window's reply count; by default the warm-up rate times `durationMs`. */
  messages?: number;
  /** Processes whose CPU time to take over the window, by group name ("server", "workers"). */
  cpu?: Record<string, number[]>;
  /** Keep the load running after the result, and take commands on stdin. */
  hold?: boolean;
}

export interface LoadResult {
  /** Replies received in the window: the count CPU time is divided by. */
  messages: number;
  /** Messages sent in the window (differs from `messages` by at most the connection count). */
  sent: number;
  seconds: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  errors: number;
  /** CPU time over the window, µs: "loadgen" (this process) and each group of the spec's `cpu`. */
  cpu: Record<string, CpuTime>;
}

function message(bytes: number): Buffer {
  // Printable filler ending in the delimiter, so both a delimiter framer and an echo agree.
  const body = Buffer.alloc(Math.max(bytes, 3), "x");
  body[body.length - 2] = 0x0d;
  body[body.length - 1] = 0x0a;
  return body;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function cpuNow(groups: Record<string, number[]>): Record<string, CpuTime> {
  const now: Record<string, CpuTime> = { loadgen: cpuOf("self") };
  for (const [name, pids] of Object.entries(groups)) now[name] = cpuOfAll(pids);
  return now;
}

async function run(spec: LoadSpec): Promise<void> {
  const payload = message(spec.messageBytes);
  const groups = spec.cpu ?? {};
  let latencies = new Float64Array(1 << 16);
  let count = 0; // replies in the window
  let sent = 0; // sends in the window
  let total = 0; // replies since the start
  let errors = 0;
  let measuring = false;
  let stopped = false;
  let target = Infinity;
  let windowEnded: () => void = () => {};
  const waiters: { at: number; resolve: () => void }[] = [];
  const record = (us: number) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = us;
  };

  const sockets: Socket[] = [];
  await Promise.all(
    Array.from(
      { length: spec.connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: spec.host, port: spec.port, noDelay: true });
          sockets.push(socket);
          let received = 0;
          let sentAt = 0n;
          const send = () => {
            if (stopped) return;
            received = 0;
            sentAt = process.hrtime.bigint();
            if (measuring) sent++;
            socket.write(payload);
          };
          socket.on("data", (chunk) => {
            received += chunk.length;
            if (received < payload.length) return;
            total++;
            if (measuring) {
              record(Number(process.hrtime.bigint() - sentAt) / 1000);
              if (count >= target) windowEnded();
            }
            while (waiters.length && total >= waiters[0]!.at) waiters.shift()!.resolve();
            send();
          });
          socket.on("error", () => {
            errors++;
          });
          socket.once("connect", () => {
            resolve();
            send();
          });
          socket.once("close", () => {
            if (!stopped) errors++;
            reject(new Error("connection closed during the benchmark"));
          });
        }),
    ),
  );
  const warmStart = process.hrtime.bigint();
  const warmTotal = total;
  await new Promise((r) => setTimeout(r, spec.warmupMs));
  const warmRate = (total - warmTotal) / (Number(process.hrtime.bigint() - warmStart) / 1e9);
  target = spec.messages ?? Math.max(500, Math.round((warmRate * spec.durationMs) / 1000));

  // The window: from here until the target-th reply (or, if the rate collapses, a time limit).
  const before = cpuNow(groups);
  const start = process.hrtime.bigint();
  measuring = true;
  let after: Record<string, CpuTime> = before;
  let end = start;
  await new Promise<void>((resolve) => {
    const limit = setTimeout(() => windowEnded(), 3 * spec.durationMs + 5000);
    windowEnded = () => {
      // Synchronously in the handler of the last reply, so no other reply slips in.
      end = process.hrtime.bigint();
      after = cpuNow(groups);
      measuring = false;
      windowEnded = () => {};
      clearTimeout(limit);
      resolve();
    };
  });
  const seconds = Number(end - start) / 1e9;
  const cpu: Record<string, CpuTime> = {};
  for (const name of Object.keys(before)) cpu[name] = cpuDelta(after[name]!, before[name]!);
  const sorted = latencies.subarray(0, count).sort();
  const result: LoadResult = {
    messages: count,
    sent,
    seconds,
    rps: count / seconds,
    p50_us: percentile(sorted, 50),
    p99_us: percentile(sorted, 99),
    errors,
    cpu,
  };
  process.stdout.write(JSON.stringify(result) + "\n");

  if (spec.hold) {
    const lines = createInterface({ input: process.stdin });
    for await (const line of lines) {
      const [command, arg] = line.trim().split(" ");
      if (command === "mark") {
        process.stdout.write(JSON.stringify({ total }) + "\n");
      } else if (command === "count") {
        const n = Number(arg);
        await new Promise<void>((resolve) => waiters.push({ at: total + n, resolve }));
        process.stdout.write(JSON.stringify({ counted: n }) + "\n");
      }
    }
  }
  stopped = true;
  for (const socket of sockets) socket.destroy();
}

/** Opens `connections` idle connections, reports when they are all open, holds them until stdin closes. */
async function holdIdle(spec: LoadSpec): Promise<void> {
  const sockets: Socket[] = [];
  const batch = 500;
  for (let i = 0; i < spec.connections; i += batch) {
    await Promise.all(
      Array.from(
        { length: Math.min(batch, spec.connections - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = connect({ host: spec.host, port: spec.port });
            socket.once("connect", () => resolve());
            socket.once("error", reject);
            sockets.push(socket);
          }),
      ),
    );
  }
  process.stdout.write(JSON.stringify({ open: sockets.length }) + "\n");
  process.stdin.resume();
  await new Promise((r) => process.stdin.once("end", r));
  for (const socket of sockets) socket.destroy();
}

const [mode, arg] = process.argv.slice(2);
const spec = JSON.parse(arg ?? "{}") as LoadSpec;
if (mode === "idle") {
  await holdIdle(spec);
} else {
  await run(spec);
}
