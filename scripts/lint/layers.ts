/**
 * The folders of src/ are layers: none may import a folder that imports it back, directly or
 * through others (docs/architecture.md). This reads every relative import in src/, builds the
 * folder graph and reports each cycle with one import that closes it, so the fix is findable.
 *
 *   tsx scripts/lint/layers.ts [srcDir]     exit 1 and the cycles on stderr, or exit 0
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** One import from a file in one folder to a file in another. */
export interface FolderImport {
  readonly from: string;
  readonly to: string;
  /** The importing file, relative to the src dir, and the line. */
  readonly where: string;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']/g;

/** The folder a file of `srcDir` belongs to: its first path segment, or "." for the top level. */
function folderOf(srcDir: string, file: string): string | undefined {
  const rel = relative(srcDir, file);
  if (rel.startsWith("..")) return undefined; // gen/ts and other trees outside src/ are not layers
  return rel.includes(sep) ? rel.split(sep)[0]! : ".";
}

/** Every import between two different folders of `srcDir`. */
export function folderImports(srcDir: string): FolderImport[] {
  const found: FolderImport[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        const from = folderOf(srcDir, path)!;
        for (const match of text.matchAll(IMPORT)) {
          const to = folderOf(srcDir, resolve(dirname(path), match[1]!));
          if (to === undefined || to === from || to === ".") continue; // top-level modules (errors.ts) are below every folder
          if (from === ".") continue; // the CLI and the public index sit above every folder
          const start = match.index + match[0].length - match[0].trimStart().length;
          const line = text.slice(0, start).split("\n").length;
          found.push({ from, to, where: `${relative(srcDir, path)}:${line}` });
        }
      }
    }
  };
  walk(srcDir);
  return found;
}

/** The cycles of the folder graph, each as the folders in order and the imports that close it. */
export function folderCycles(imports: readonly FolderImport[]): string[] {
  const edges = new Map<string, Map<string, string>>();
  for (const { from, to, where } of imports) {
    const out = edges.get(from) ?? new Map<string, string>();
    if (!out.has(to)) out.set(to, where);
    edges.set(from, out);
  }
  const cycles = new Set<string>();
  const visit = (node: string, path: string[]): void => {
    for (const next of edges.get(node)?.keys() ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const loop = [...path.slice(at), next];
        // One report per cycle, whichever folder the walk entered it by.
        const start = loop.slice(0, -1).reduce((min, f, i, all) => (f < all[min]! ? i : min), 0);
        const ordered = [...loop.slice(start, -1), ...loop.slice(0, start), loop[start]!];
        const hops = ordered
          .slice(0, -1)
          .map((f, i) => `${f} -> ${ordered[i + 1]} (${edges.get(f)!.get(ordered[i + 1]!)})`);
        cycles.add(hops.join(", "));
        continue;
      }
      visit(next, [...path, next]);
    }
  };
  for (const node of edges.keys()) visit(node, [node]);
  return [...cycles].sort();
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = resolve(process.argv[2] ?? "src");
  const cycles = folderCycles(folderImports(srcDir));
  if (cycles.length > 0) {
    process.stderr.write(`src/ folders import each other in a circle (docs/architecture.md):\n`);
    for (const cycle of cycles) process.stderr.write(`  ${cycle}\n`);
    process.exit(1);
  }
}
