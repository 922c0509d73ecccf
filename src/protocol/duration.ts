import type { Duration } from "../../gen/ts/google/protobuf/duration.js";

/** Milliseconds in a schema Duration; an absent Duration is 0 (the schema's "not set"). */
export function durationToMs(duration: Duration | undefined): number {
  if (!duration) return 0;
  return duration.seconds * 1000 + duration.nanos / 1e6;
}

/** A schema Duration for a number of milliseconds (non-negative). */
export function msToDuration(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
