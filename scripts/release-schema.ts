/**
 * Cuts a schema release: records the current proto/ as a buf image in proto/releases, the
 * baseline `buf breaking` checks every later change against. A committed image works in CI's
 * fresh clone, where a git ref to compare with is not there.
 *
 * Usage: npm run release:schema            (records SCHEMA_VERSION from src/protocol)
 *        npm run release:schema -- --force (re-records the same version)
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { SCHEMA_PACKAGE, SCHEMA_VERSION } from "../src/protocol/schema-version.js";

export const RELEASE_IMAGE = "proto/releases/latest.binpb";
export const RELEASE_INFO = "proto/releases/latest.json";

const force = process.argv.includes("--force");
if (existsSync(RELEASE_INFO) && !force) {
  const released = JSON.parse(readFileSync(RELEASE_INFO, "utf8")) as { version: string };
  if (released.version === SCHEMA_VERSION) {
    console.error(
      `release:schema: ${SCHEMA_PACKAGE} ${SCHEMA_VERSION} is already released; bump SCHEMA_VERSION in src/protocol/schema-version.ts first (or pass --force).`,
    );
    process.exit(1);
  }
}
if (existsSync(RELEASE_IMAGE))
  execFileSync("npx", ["--no-install", "buf", "breaking", "--against", RELEASE_IMAGE], { stdio: "inherit" });
execFileSync("npx", ["--no-install", "buf", "build", "--exclude-source-info", "-o", RELEASE_IMAGE], {
  stdio: "inherit",
});
writeFileSync(RELEASE_INFO, JSON.stringify({ package: SCHEMA_PACKAGE, version: SCHEMA_VERSION }, null, 2) + "\n");
console.log(`release:schema: recorded ${SCHEMA_PACKAGE} ${SCHEMA_VERSION} in ${RELEASE_IMAGE}`);
