/**
 * What the benchmark reads from /proc: a process's CPU time (utime + stime over all its threads,
 * from /proc/PID/stat) and the children of a process (to find a server's workers).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second, the unit of utime and stime; 100 on every Linux we know of. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time in µs; the resolution is one clock tick (10 ms at 100 Hz). */
export interface CpuTime {
  user: number;
  system: number;
}

/** The fields after the command name, which sits in parentheses and may hold spaces. */
function statFields(pid: number | "self"): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/**
 * utime and stime of a process: the sum over all its threads, live and exited. With `children`,
 * cutime and cstime instead: the time of its children it has already waited for.
 */
export function cpuOf(pid: number | "self", children = false): CpuTime {
  const f = statFields(pid);
  // fields from state (field 3 of proc(5)): utime is field 14, so index 11 here.
  const at = children ? 13 : 11;
  const tick = 1e6 / CLK_TCK;
  return { user: Number(f[at]) * tick, system: Number(f[at + 1]) * tick };
}

/** The summed CPU time of processes; a process that has gone reads as zero. */
export function cpuOfAll(pids: readonly number[]): CpuTime {
  const sum = { user: 0, system: 0 };
  for (const pid of pids) {
    try {
      const t = cpuOf(pid);
      sum.user += t.user;
      sum.system += t.system;
    } catch {
      // gone
    }
  }
  return sum;
}

export function cpuDelta(after: CpuTime, before: CpuTime): CpuTime {
  return { user: after.user - before.user, system: after.system - before.system };
}

/** The pids whose parent is `pid`, by a scan of /proc. */
export function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(Number(entry))[1]) === pid) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Waits until `pid` has at least `count` children (the pool spawning its workers); returns them. */
export async function waitForChildren(pid: number, count: number, timeoutMs = 30_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = childrenOf(pid);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`pid ${pid} has ${found.length} children, expected ${count}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
