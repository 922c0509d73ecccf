/**
 * The Go bindings (gen/go, the module github.com/rr-tcp/rr-tcp/gen/go) and worker (examples/go),
 * built offline in the checkout's workspace (go.work) with Debian's golang-go and Go modules.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { goModulePath } from "../../scripts/gen-bindings.js";
import { SCHEMA_VERSION } from "../../src/protocol/schema-version.js";
import { describeLanguage } from "./cross-language.js";
import { GO_WORK, goTestExamples, REPO_ROOT } from "./toolchain.js";

describe("go", () => {
  describeLanguage("go");

  it("passes its own go test ./... in examples/go (frames one byte at a time, names from the schema)", () => {
    expect(goTestExamples()).toMatch(/ok\s+\S+\/goridge/);
  }, 240_000);

  it("examples/go/go.mod has no replace and requires gen/go at a version of the schema's major, which go.work resolves", () => {
    const goMod = readFileSync(join(REPO_ROOT, "examples/go/go.mod"), "utf8");
    const code = goMod.replace(/\/\/.*$/gm, "");
    expect(code).not.toMatch(/\breplace\b/);
    const module = goModulePath();
    const required = new RegExp(`^\\s+${module.replace(/[.]/g, "\\.")} (v\\S+)$`, "m").exec(code)?.[1];
    expect(required, `examples/go/go.mod requires ${module}`).toMatch(
      new RegExp(`^v${SCHEMA_VERSION.split(".")[0]}\\.`),
    );
    expect(readFileSync(GO_WORK, "utf8")).toContain(`replace ${module} ${required} => ./gen/go\n`);
  });
});
