/**
 * Fails when gen/ is not exactly what the generators make from proto/: gen/ts (`npm run gen`)
 * and the committed language bindings (`npm run gen:bindings`). It generates into temporary
 * folders instead of the work tree, so it needs no git and changes nothing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkBindings, COMMITTED_LANGUAGES } from "./gen-bindings.js";
import { CONFIG_OUTPUTS, generateConfigDescriptions } from "./gen-config.js";
import { stampTree } from "./gen-stamp.js";
import { diffTrees } from "./tree-diff.js";

const out = mkdtempSync(join(tmpdir(), "rr-tcp-gen-"));
try {
  execFileSync("npx", ["--no-install", "buf", "generate", "--output", out], { stdio: "inherit" });
  generateConfigDescriptions(out);
  stampTree(join(out, "gen/ts"));
  const problems = diffTrees("gen/ts", join(out, "gen/ts"));
  for (const file of CONFIG_OUTPUTS.filter((f) => !f.startsWith("gen/"))) {
    if (!existsSync(file) || readFileSync(file, "utf8") !== readFileSync(join(out, file), "utf8")) {
      problems.push(`${file} differs from what proto/ generates`);
    }
  }
  if (problems.length > 0) {
    console.error(
      "gen:check: gen/ts, docs/config.md or schema/ is out of date with proto/ (run `npm run gen` and commit):\n  " +
        problems.join("\n  "),
    );
    process.exitCode = 1;
  } else {
    console.log("gen:check: gen/ts matches proto/");
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

const bindings = checkBindings();
if (!bindings.ok) {
  console.error(
    "gen:check: committed bindings are out of date (run `npm run gen:bindings` and commit):\n  " +
      bindings.problems.join("\n  ") +
      (bindings.hint ? "\n" + bindings.hint : ""),
  );
  process.exitCode = 1;
} else {
  console.log(`gen:check: ${COMMITTED_LANGUAGES.map((l) => `gen/${l}`).join(", ")} match proto/`);
}
