/**
 * The Go bindings (gen/go) and worker (examples/go), built offline with Debian's golang-go and
 * golang-google-protobuf-dev.
 */
import { describe, expect, it } from "vitest";
import { describeLanguage } from "./cross-language.js";
import { goTestExamples } from "./toolchain.js";

describe("go", () => {
  describeLanguage("go");

  it("passes its own go test ./... in examples/go (frames one byte at a time, names from the schema)", () => {
    expect(goTestExamples()).toMatch(/ok\s+\S+\/goridge/);
  }, 240_000);
});
