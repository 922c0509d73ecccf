/**
 * Syscall counts by `strace -c -f -p PID...`: attached to running processes (every thread) for
 * as long as the caller wants, then stopped with SIGINT, when strace prints its summary.
 * Tracing slows the traced processes several times over, so the benchmark does it in a phase of
 * its own, after the timed one, and only counts calls.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SyscallCount {
  calls: number;
  byName: Map<string, number>;
}

/** Why syscalls cannot be counted here, or undefined when strace is installed. */
export function straceMissing(): string | undefined {
  try {
    execFileSync("strace", ["-V"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "strace is not installed";
  }
}

/** Parses the table of `strace -c`: rows of % time, seconds, usecs/call, calls, [errors], syscall. */
export function parseStraceSummary(text: string): SyscallCount {
  const byName = new Map<string, number>();
  let calls = 0;
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || !/^\d+\.\d+$/.test(cols[0]!)) continue;
    const name = cols[cols.length - 1]!;
    if (name === "total") continue;
    const n = Number(cols[3]);
    byName.set(name, (byName.get(name) ?? 0) + n);
    calls += n;
  }
  return { calls, byName };
}

/** A running `strace -c`: `interrupt` ends the count (SIGINT), `result` waits for its summary. */
export interface Trace {
  interrupt(): void;
  result(): Promise<SyscallCount>;
}

/** Attaches to `pids`; resolves once strace reports each attached. */
export async function traceSyscalls(pids: readonly number[]): Promise<Trace> {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-bench-strace-"));
  const out = join(dir, "summary.txt");
  const args = ["-c", "-f", "-o", out, ...pids.flatMap((pid) => ["-p", String(pid)])];
  const child = spawn("strace", args, { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`strace did not attach within 10 s: ${stderr.trim()}`)), 10_000);
    child.stderr!.on("data", (chunk) => {
      stderr += chunk;
      if ((stderr.match(/Process \d+ attached/g) ?? []).length >= pids.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`strace exited: ${stderr.trim().split("\n").pop()}`));
    });
  });
  return {
    interrupt: () => child.kill("SIGINT"),
    result: async () => {
      await exited;
      try {
        return parseStraceSummary(readFileSync(out, "utf8"));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
