/**
 * Log records (pino's JSON objects) as lines for people: `logs.encoding: console`, and the bare
 * message of `logs.mode: raw`. Written here rather than taken from pino-pretty: it is one small
 * function, and pino-pretty would add a dozen packages to the server for it.
 *
 *   12:00:01.234 INFO  rr-tcp ready servers={"main":"127.0.0.1:7000"}
 *
 * A message of several lines (a worker's stack trace) keeps its lines, each continued under the
 * first; an error's stack follows its record the same way.
 */

/** One pino record, parsed. */
export type LogRecord = Readonly<Record<string, unknown>>;

/** pino's level numbers and the names the lines show. */
const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/**
 * ANSI colors of each level's name: zap's development palette (magenta debug, yellow warn, red
 * error), with info in cyan rather than zap's blue, which is hard to read on dark terminals.
 */
const LEVEL_COLORS: Readonly<Record<number, string>> = {
  10: "\x1b[90m",
  20: "\x1b[35m",
  30: "\x1b[36m",
  40: "\x1b[33m",
  50: "\x1b[31m",
  60: "\x1b[1;31m",
};
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

/** Keys every record has that the line shows in its own way, or not at all (pid: one process). */
const OWN_KEYS: ReadonlySet<string> = new Set(["level", "time", "msg", "pid", "hostname"]);

/** Where continued lines start: under the message, after `HH:MM:SS.mmm LEVEL `. */
const INDENT = " ".repeat("00:00:00.000 LEVEL ".length);

/** Options of {@link formatConsoleLine}. */
export interface ConsoleFormat {
  /** ANSI colors (for a terminal). */
  readonly colors: boolean;
}

/** `record` as one readable line (more when its message or error has several), ending in "\n". */
export function formatConsoleLine(record: LogRecord, format: ConsoleFormat): string {
  const paint = (color: string, text: string): string => (format.colors ? `${color}${text}${RESET}` : text);
  const level = typeof record.level === "number" ? record.level : 30;
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const [first = "", ...rest] = String(record.msg ?? "").split("\n");
  let line = `${paint(DIM, clock(record.time))} ${paint(LEVEL_COLORS[level] ?? "", name)} ${first}`;
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (OWN_KEYS.has(key) || value === undefined) continue;
    if (key === "err" && isError(value)) {
      line += ` ${paint(DIM, "err=")}${JSON.stringify(value.message)}`;
      stack = value.stack;
      continue;
    }
    line += ` ${paint(DIM, `${key}=`)}${showValue(value)}`;
  }
  const more = [...rest, ...(stack?.split("\n").slice(1) ?? [])];
  return [line, ...more.map((text) => INDENT + text)].join("\n") + "\n";
}

/** The message alone (`logs.mode: raw`), ending in "\n". */
export function formatRawLine(record: LogRecord): string {
  return `${String(record.msg ?? "")}\n`;
}

/** The message alone as a JSON line (`logs.mode: raw` with `logs.encoding: json`). */
export function formatRawJsonLine(record: LogRecord): string {
  return `${JSON.stringify({ msg: String(record.msg ?? "") })}\n`;
}

/** `HH:MM:SS.mmm` in local time: a terminal's reader knows the date. */
function clock(time: unknown): string {
  const date = new Date(typeof time === "number" ? time : Date.now());
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

/** A word as it is, anything else as JSON (quoted strings, compact objects). */
function showValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

function isError(value: unknown): value is { message: string; stack?: string } {
  return typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";
}
