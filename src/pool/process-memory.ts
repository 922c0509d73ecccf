/**
 * Resident memory of a process, read from /proc (Linux). Elsewhere, or when the process is gone,
 * the answer is 0: a limit is then never reached rather than reached by mistake.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

const VM_RSS = /^VmRSS:\s+(\d+)\s+kB/m;

/** RSS in bytes of `pid`, from `/proc/<pid>/status` (VmRSS). */
export async function readRssBytes(pid: number): Promise<number> {
  if (pid <= 0) return 0;
  try {
    return parseStatus(await readFile(`/proc/${pid}/status`, "latin1"));
  } catch {
    return 0;
  }
}

/** The same, synchronously (a few microseconds: /proc is not a disk). */
export function readRssBytesSync(pid: number): number {
  if (pid <= 0) return 0;
  try {
    return parseStatus(readFileSync(`/proc/${pid}/status`, "latin1"));
  } catch {
    return 0;
  }
}

function parseStatus(text: string): number {
  const match = VM_RSS.exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}
