/**
 * The chaos suite's ledger: each case records one row (what it injected and what it counted) as
 * a JSON file under a temp directory outside git; the global teardown (test/chaos/global-setup.ts)
 * prints them as one markdown table and writes it to `results.md` there. A case records its row
 * before it asserts, so a failing case still shows its numbers.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where the rows and results.md go: $RR_TCP_CHAOS_DIR, else $TMPDIR/rr-tcp-chaos. */
export const CHAOS_DIR = process.env.RR_TCP_CHAOS_DIR || join(tmpdir(), "rr-tcp-chaos");
const ROWS_DIR = join(CHAOS_DIR, "rows");
export const RESULTS_FILE = join(CHAOS_DIR, "results.md");

/** One case's counts. A count the case does not measure is left out and shows as "–". */
export interface Row {
  /** The case, as its `it` names it in short. */
  case: string;
  /** Faults injected: kills, signals, hostile connections or frames, fuzzed configs. */
  faults: number;
  /** Client messages sent. */
  sent?: number;
  /** Answered exactly as expected (its own reply, on its own connection). */
  answered?: number;
  /** Messages whose connection the server closed before their reply (a worker killed mid-event). */
  cut?: number;
  /** Connections that got their CLOSE event. */
  closed?: number;
  /** Messages on a connection still open that never got their reply. */
  lost?: number;
  duplicated?: number;
  /** Bytes a connection received that are not the reply to one of its own messages. */
  wrong?: number;
  /** Replies that came on their own connection, but before the reply to an earlier message. */
  outOfOrder?: number;
  /** Connections with no CLOSE event. */
  missingClose?: number;
  /** CLOSE events beyond the first for a connection, or any event after its CLOSE. */
  duplicateClose?: number;
  /** Worker (or server) processes alive after the server exited. */
  leaked?: number;
  /** The server process's peak RSS (VmHWM), MiB. */
  peakRssMiB?: number;
  /** Wall time of the case, seconds. */
  seconds?: number;
}

const COLUMNS: Array<[keyof Row, string]> = [
  ["case", "case"],
  ["faults", "faults"],
  ["sent", "sent"],
  ["answered", "answered"],
  ["cut", "cut"],
  ["closed", "closed"],
  ["lost", "lost"],
  ["duplicated", "dup"],
  ["wrong", "wrong conn"],
  ["outOfOrder", "out of order"],
  ["missingClose", "missing CLOSE"],
  ["duplicateClose", "dup CLOSE"],
  ["leaked", "leaked procs"],
  ["peakRssMiB", "peak RSS MiB"],
  ["seconds", "s"],
];

let sequence = 0;

/** Records a case's row (call before the case's assertions). */
export function record(row: Row): void {
  mkdirSync(ROWS_DIR, { recursive: true });
  const name = `${Date.now()}-${process.pid}-${String(++sequence).padStart(3, "0")}.json`;
  writeFileSync(join(ROWS_DIR, name), JSON.stringify(row));
}

/** Empties the rows of an earlier run (global setup). */
export function resetLedger(): void {
  rmSync(ROWS_DIR, { recursive: true, force: true });
  mkdirSync(ROWS_DIR, { recursive: true });
}

/** The rows recorded so far: by case number (the case's first word), then in the order recorded. */
export function rows(): Row[] {
  let names: string[];
  try {
    names = readdirSync(ROWS_DIR).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  const number = (row: Row): number => Number.parseInt(row.case, 10) || Number.MAX_SAFE_INTEGER;
  return names
    .sort()
    .map((n) => JSON.parse(readFileSync(join(ROWS_DIR, n), "utf8")) as Row)
    .map((row, i) => ({ row, i }))
    .sort((a, b) => number(a.row) - number(b.row) || a.i - b.i)
    .map(({ row }) => row);
}

/** The rows as one markdown table, with a totals line. */
export function table(all: Row[]): string {
  const cell = (value: unknown): string => (value === undefined ? "–" : String(value));
  const lines = [
    `| ${COLUMNS.map(([, title]) => title).join(" | ")} |`,
    `| ${COLUMNS.map(([key]) => (key === "case" ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const row of all) lines.push(`| ${COLUMNS.map(([key]) => cell(row[key])).join(" | ")} |`);
  const total = (key: keyof Row): number | undefined => {
    const values = all.map((r) => r[key]).filter((v): v is number => typeof v === "number");
    return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
  };
  const totals = COLUMNS.map(([key]) => {
    if (key === "case") return `**total (${all.length} cases)**`;
    if (key === "peakRssMiB") {
      const peaks = all.map((r) => r.peakRssMiB).filter((v): v is number => v !== undefined);
      return peaks.length === 0 ? "–" : `max ${Math.max(...peaks)}`;
    }
    const sum = total(key);
    return sum === undefined ? "–" : key === "seconds" ? sum.toFixed(1) : String(sum);
  });
  lines.push(`| ${totals.join(" | ")} |`);
  return lines.join("\n");
}
