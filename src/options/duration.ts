/**
 * Go durations as RoadRunner's config reads them: `time.ParseDuration` syntax (`60s`, `1m30s`,
 * `250ms`, `1.5h`, `300us`, `0`) for strings, and a bare YAML integer meaning nanoseconds.
 */
import type { Duration } from "../../gen/ts/google/protobuf/duration.js";

const UNIT_NANOS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const TERM = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Nanoseconds in a Go duration string, or undefined when it is not one. Negative durations are refused. */
export function parseGoDurationNanos(text: string): number | undefined {
  let rest = text.trim();
  if (rest.startsWith("+")) rest = rest.slice(1);
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  while (rest.length > 0) {
    const match = TERM.exec(rest);
    if (!match) return undefined;
    const [whole, amount, unit] = match as unknown as [string, string, string];
    total += Number(amount) * (UNIT_NANOS[unit] as number);
    rest = rest.slice(whole.length);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** A schema Duration from nanoseconds (non-negative). */
export function nanosToDuration(nanos: number): Duration {
  const seconds = Math.floor(nanos / 1e9);
  return { seconds, nanos: Math.round(nanos - seconds * 1e9) };
}

/** Nanoseconds of a schema Duration; undefined is 0. */
export function durationToNanos(duration: Duration | undefined): number {
  return duration ? duration.seconds * 1e9 + duration.nanos : 0;
}

/** A Go-style string for a Duration, as `time.Duration.String()` prints it (`1m30s`, `250ms`, `0s`). */
export function formatGoDuration(duration: Duration | undefined): string {
  const nanos = durationToNanos(duration);
  if (nanos === 0) return "0s";
  if (nanos < 1e3) return `${nanos}ns`;
  if (nanos < 1e6) return `${trimFraction(nanos / 1e3)}µs`;
  if (nanos < 1e9) return `${trimFraction(nanos / 1e6)}ms`;
  let out = "";
  let rest = nanos;
  const hours = Math.floor(rest / 3600e9);
  rest -= hours * 3600e9;
  const minutes = Math.floor(rest / 60e9);
  rest -= minutes * 60e9;
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  return `${out}${trimFraction(rest / 1e9)}s`;
}

function trimFraction(value: number): string {
  return String(Number(value.toFixed(9)));
}
