import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  durationToNanos,
  formatGoDuration,
  nanosToDuration,
  parseGoDurationNanos,
} from "../../src/options/duration.js";

describe("Go durations", () => {
  it.each([
    ["0", 0],
    ["0s", 0],
    ["60s", 60e9],
    ["1m30s", 90e9],
    ["250ms", 250e6],
    ["1h", 3600e9],
    ["1.5h", 5400e9],
    ["300us", 300e3],
    ["300µs", 300e3],
    ["42ns", 42],
    ["1h2m3s4ms", 3723004e6],
    [".5s", 5e8],
  ])("parses %s", (text, nanos) => {
    expect(parseGoDurationNanos(text)).toBe(nanos);
  });

  it.each(["abc", "", "60", "1x", "s", "1m 30s", "--1s", "1.2.3s"])("refuses %j", (text) => {
    expect(parseGoDurationNanos(text)).toBeUndefined();
  });

  it.each([
    [0, "0s"],
    [90e9, "1m30s"],
    [3600e9, "1h0m0s"],
    [250e6, "250ms"],
    [1500, "1.5µs"],
    [5e9, "5s"],
  ])("formats %d ns as %s", (nanos, text) => {
    expect(formatGoDuration(nanosToDuration(nanos))).toBe(text);
  });

  it("formatting then parsing gives the same duration", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.constantFrom(1, 1e3, 1e6, 1e9), (n, scale) => {
        const nanos = n * scale;
        expect(parseGoDurationNanos(formatGoDuration(nanosToDuration(nanos)))).toBe(nanos);
        expect(durationToNanos(nanosToDuration(nanos))).toBe(nanos);
      }),
    );
  });
});
