/**
 * The real-world reference: redis-server under redis-benchmark (PING_INLINE), beside rr-tcp
 * with a PING worker under the same redis-benchmark. Both started on free loopback ports.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { cpuDelta, cpuOf, cpuOfAll, type CpuTime } from "./proc.js";
import { freePort, waitForPort, type RunningTarget } from "./targets.js";

/** Why the redis rows cannot run, or undefined when redis-server and redis-benchmark are here. */
export function redisMissing(): string | undefined {
  for (const tool of ["redis-server", "redis-benchmark"]) {
    try {
      execFileSync(tool, ["--version"], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed (apt-get install redis-server redis-tools)`;
    }
  }
  return undefined;
}

export async function startRedisServer(): Promise<RunningTarget> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  await waitForPort(port, child, 10_000);
  return {
    port,
    pid: child.pid!,
    workerPids: [],
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface RedisBenchResult {
  requests: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  /** CPU time over the run, µs: the server, its workers, and redis-benchmark ("loadgen"). */
  cpu: Record<string, CpuTime>;
}

/**
 * `redis-benchmark -t ping_inline -c 50 [-P pipeline] -n requests --csv` against a target. CPU
 * is read before and after the fixed request count; redis-benchmark's own from this process's
 * cutime + cstime, which take it in when it has exited and been waited for.
 */
export async function runRedisBenchmark(
  target: RunningTarget,
  opts: { requests: number; pipeline: number },
): Promise<RedisBenchResult> {
  const args = ["-h", "127.0.0.1", "-p", String(target.port), "-t", "ping_inline", "-c", "50", "-n"];
  args.push(String(opts.requests), "--csv");
  if (opts.pipeline > 1) args.push("-P", String(opts.pipeline));
  const before = { server: cpuOf(target.pid), workers: cpuOfAll(target.workerPids), loadgen: cpuOf("self", true) };
  const csv = await new Promise<string>((resolve, reject) =>
    execFile("redis-benchmark", args, { timeout: 300_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const after = { server: cpuOf(target.pid), workers: cpuOfAll(target.workerPids), loadgen: cpuOf("self", true) };
  const row = csv
    .split("\n")
    .find((line) => line.startsWith('"PING_INLINE"'))
    ?.split(",")
    .map((cell) => Number(cell.replace(/"/g, "")));
  if (!row) throw new Error(`redis-benchmark printed no PING_INLINE row: ${csv}`);
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
  return {
    requests: opts.requests,
    rps: row[1]!,
    p50_us: row[4]! * 1000,
    p99_us: row[6]! * 1000,
    cpu: {
      server: cpuDelta(after.server, before.server),
      workers: cpuDelta(after.workers, before.workers),
      loadgen: cpuDelta(after.loadgen, before.loadgen),
    },
  };
}
