/** Compares a committed folder of generated files with a fresh generation of it. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

function listFiles(dir: string, ignore: (relPath: string) => boolean, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (ignore(relative(base, path))) return [];
    return statSync(path).isDirectory() ? listFiles(path, ignore, base) : [relative(base, path)];
  });
}

/**
 * The differences between a committed folder and a fresh generation of it, one line each. Paths
 * (files or folders, relative to either folder) for which `ignore` is true are left out.
 */
export function diffTrees(
  committedDir: string,
  freshDir: string,
  ignore: (relPath: string) => boolean = () => false,
): string[] {
  const committed = new Set(listFiles(committedDir, ignore));
  const fresh = new Set(listFiles(freshDir, ignore));
  const problems: string[] = [];
  for (const file of [...fresh].sort()) {
    if (!committed.has(file)) problems.push(`missing: ${join(committedDir, file)}`);
    else if (!readFileSync(join(committedDir, file)).equals(readFileSync(join(freshDir, file))))
      problems.push(`differs: ${join(committedDir, file)}`);
  }
  for (const file of [...committed].sort())
    if (!fresh.has(file)) problems.push(`not generated any more: ${join(committedDir, file)}`);
  return problems;
}
