/**
 * CPU time a process has used, read from /proc (Linux). Elsewhere, or when the process is gone,
 * the answer is 0, as for memory (process-memory.ts).
 */
import { readFileSync } from "node:fs";

/**
 * /proc reports times in USER_HZ ticks, which Linux fixes at 100 for every architecture's
 * userspace ABI (what `getconf CLK_TCK` prints); Node has no sysconf to ask.
 */
const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds of `pid`, from `/proc/<pid>/stat` (utime, stime). */
export function readCpuSecondsSync(pid: number): number {
  if (pid <= 0) return 0;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return 0;
  }
  return parseStat(text);
}

/** utime + stime of a stat line, in seconds. Exported for tests. */
export function parseStat(text: string): number {
  // The command name (field 2) is in parentheses and may itself hold spaces and ')': the fields
  // that follow start after its last ')'. There, state is field 3, utime 14 and stime 15.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SECOND : 0;
}
