import { describe, expect, it } from "vitest";
import { benchCodec } from "../../scripts/bench-codec.js";

describe("codec benchmark", () => {
  it("measures encode + decode of a DATA frame and reports consistent figures", async () => {
    const { nsPerFrame, framesPerSec } = await benchCodec({ durationMs: 50 });
    expect(nsPerFrame).toBeGreaterThan(0);
    expect(framesPerSec).toBeCloseTo(1e9 / nsPerFrame, 3);
  });
});
