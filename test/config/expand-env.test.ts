import { describe, expect, it } from "vitest";
import { expandEnv } from "../../src/config/expand-env.js";

describe("expandEnv", () => {
  const env = { HOST: "10.0.0.1", EMPTY: "", PORT: "7000" };
  it.each([
    ["${HOST}:${PORT}", "10.0.0.1:7000"],
    ["${MISSING}", ""],
    ["${MISSING:-127.0.0.1}:7000", "127.0.0.1:7000"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${HOST:-fallback}", "10.0.0.1"],
    ["${MISSING:-a:b-c}", "a:b-c"],
    ["$${HOST}", "${HOST}"],
    ["no vars $HOST", "no vars $HOST"],
    ["cost: $5", "cost: $5"],
  ])("%s -> %s", (input, output) => {
    expect(expandEnv(input, env)).toBe(output);
  });
});
