/**
 * Fails when gen/ts is not exactly what `npm run gen` makes from proto/. It generates into a
 * temporary directory instead of the work tree, so it needs no git and changes nothing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stampTree } from "./gen-stamp.js";

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? listFiles(path, root) : [relative(root, path)];
  });
}

export function diffGenerated(committedDir: string, freshDir: string): string[] {
  const committed = new Set(listFiles(committedDir));
  const fresh = new Set(listFiles(freshDir));
  const problems: string[] = [];
  for (const file of fresh) {
    if (!committed.has(file)) problems.push(`missing from ${committedDir}: ${file}`);
    else if (!readFileSync(join(committedDir, file)).equals(readFileSync(join(freshDir, file)))) problems.push(`differs: ${join(committedDir, file)}`);
  }
  for (const file of committed) if (!fresh.has(file)) problems.push(`not generated any more: ${join(committedDir, file)}`);
  return problems;
}

const out = mkdtempSync(join(tmpdir(), "rr-tcp-gen-"));
try {
  execFileSync("npx", ["--no-install", "buf", "generate", "--output", out], { stdio: "inherit" });
  stampTree(join(out, "gen/ts"));
  const problems = diffGenerated("gen/ts", join(out, "gen/ts"));
  if (problems.length > 0) {
    console.error("gen:check: gen/ts is out of date with proto/ (run `npm run gen` and commit):\n  " + problems.join("\n  "));
    process.exitCode = 1;
  } else {
    console.log("gen:check: gen/ts matches proto/");
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
