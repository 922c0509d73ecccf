/**
 * The benchmark's load generator, run in its own process so it does not share an event loop with
 * the server it measures. C connections in a closed loop: each sends one message and waits for
 * the whole reply before sending the next. Warm-up first, then a fixed measuring window.
 *
 * Input: one JSON argument (LoadSpec). Output: one JSON line (LoadResult) on stdout.
 */
import { connect, type Socket } from "node:net";

export interface LoadSpec {
  host: string;
  port: number;
  connections: number;
  messageBytes: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  messages: number;
  seconds: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  errors: number;
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

async function run(spec: LoadSpec): Promise<LoadResult> {
  const payload = message(spec.messageBytes);
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let measuring = false;
  let stopped = false;
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
    Array.from({ length: spec.connections }, () =>
      new Promise<void>((resolve, reject) => {
        const socket = connect({ host: spec.host, port: spec.port, noDelay: true });
        sockets.push(socket);
        let received = 0;
        let sentAt = 0n;
        const send = () => {
          if (stopped) return;
          received = 0;
          sentAt = process.hrtime.bigint();
          socket.write(payload);
        };
        socket.on("data", (chunk) => {
          received += chunk.length;
          if (received < payload.length) return;
          if (measuring) record(Number(process.hrtime.bigint() - sentAt) / 1000);
          send();
        });
        socket.on("error", () => { errors++; });
        socket.once("connect", () => { resolve(); send(); });
        socket.once("close", () => { if (!stopped) errors++; reject(new Error("connection closed during the benchmark")); });
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, spec.warmupMs));
  measuring = true;
  const start = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, spec.durationMs));
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  stopped = true;
  for (const socket of sockets) socket.destroy();

  const sorted = latencies.subarray(0, count).sort();
  return {
    messages: count,
    seconds,
    rps: count / seconds,
    p50_us: percentile(sorted, 50),
    p99_us: percentile(sorted, 99),
    errors,
  };
}

/** Opens `connections` idle connections, reports when they are all open, holds them until stdin closes. */
async function holdIdle(spec: LoadSpec): Promise<void> {
  const sockets: Socket[] = [];
  const batch = 500;
  for (let i = 0; i < spec.connections; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, spec.connections - i) }, () =>
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
  process.stdout.write(JSON.stringify(await run(spec)) + "\n");
}
