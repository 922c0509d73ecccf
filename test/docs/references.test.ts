/**
 * Comments cite only documents this repository has (docs/architecture.md#style-rules): every
 * `docs/<file>.md` and `docs/<file>.md#<heading>` in the sources, tests, scripts, examples, schema
 * and README names a file in docs/ and, with an anchor, one of its headings (GitHub's slugs). The
 * upstream reference documents the code was first written against live outside the repository, so
 * no comment may cite them any more.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;

/** Where references are looked for: folders walked recursively, and single files. */
const SCANNED = ["src", "test", "scripts", "examples", "proto", "bench", "README.md"];
/** Never walked: dependencies, build output, generated code. */
const SKIPPED_DIRS = new Set(["node_modules", "dist", "gen", ".git"]);

/** `docs/wire.md` or `docs/wire.md#frame-header`, not preceded by a path (`test/docs/...`). */
const DOC_REFERENCE = /(?<![\w./-])docs\/([\w./-]+?\.md)(?:#([\w-]*))?/g;

/** Citations of documents outside the repository, which docs/ replaced. */
const OUTSIDE_REFERENCES: ReadonlyArray<[RegExp, string]> = [
  [/spec\/roadrunner-wire\.md|roadrunner-wire\.md/, "the outside wire spec: cite docs/wire.md#<heading>"],
  [/spec\/behaviour\.md|(?<![\w/[-])behaviour\.md/, "the outside behaviour spec: cite docs/behaviour.md#<heading>"],
  [/DESIGN\.md/, "the outside design notes: cite docs/architecture.md#<heading>"],
  [/\bspec \u00a7/, "a section of the outside spec: cite docs/wire.md#<heading>"],
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a markdown file's headings, outside fenced code; repeats get -1, -2, ... */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Every text file under the scanned paths, relative to the repository root, posix-style. */
function scannedFiles(): string[] {
  const files: string[] = [];
  const walk = (path: string): void => {
    const full = join(root, path);
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full)) {
        if (!SKIPPED_DIRS.has(entry)) walk(posix.join(path, entry));
      }
    } else if (!readFileSync(full).includes(0)) {
      files.push(path);
    }
  };
  for (const path of SCANNED) walk(path);
  return files.sort();
}

interface Reference {
  where: string;
  file: string;
  anchor: string | undefined;
}

function references(path: string, text: string): Reference[] {
  return text.split("\n").flatMap((line, i) =>
    [...line.matchAll(DOC_REFERENCE)].map((match) => ({
      where: `${path}:${i + 1}`,
      file: posix.join("docs", match[1] as string),
      anchor: match[2] || undefined,
    })),
  );
}

const anchorCache = new Map<string, Set<string> | null>();
function anchorsOf(file: string): Set<string> | null {
  if (!anchorCache.has(file)) {
    let text: string | null = null;
    try {
      text = readFileSync(join(root, file), "utf8");
    } catch {
      // a missing file: reported by the caller
    }
    anchorCache.set(file, text === null ? null : anchors(text));
  }
  return anchorCache.get(file) ?? null;
}

/** What is wrong with one reference, or null. */
function problem(file: string, anchor: string | undefined): string | null {
  const headings = anchorsOf(file);
  if (headings === null) return `${file} does not exist`;
  if (anchor !== undefined && !headings.has(anchor)) return `${file} has no heading #${anchor}`;
  return null;
}

describe("references to documents", () => {
  const files = scannedFiles();
  const self = relative(root, new URL(import.meta.url).pathname);

  it("turns headings into GitHub's anchors", () => {
    expect(slug("Payload: context and body")).toBe("payload-context-and-body");
    expect(slug("Closing while busy, RPC close and shutdown")).toBe("closing-while-busy-rpc-close-and-shutdown");
    expect(slug("BYTE10 stream bits")).toBe("byte10-stream-bits");
    expect(slug("The `tcp.Close` method")).toBe("the-tcpclose-method");
    expect([...anchors("# A\n## B\n```\n# not a heading\n```\n## B\n")]).toEqual(["a", "b", "b-1"]);
  });

  it("cite a file in docs/ and, with an anchor, one of its headings", () => {
    const found = files.flatMap((path) => references(path, readFileSync(join(root, path), "utf8")));
    expect(found.length, "no docs/ references found at all: is the pattern broken?").toBeGreaterThan(20);
    const problems = found.flatMap(({ where, file, anchor }) => {
      const wrong = problem(file, anchor);
      return wrong === null ? [] : [`${where}: ${wrong}`];
    });
    expect(problems).toEqual([]);
  });

  it("cite no document outside the repository", () => {
    const problems = files
      .filter((path) => path !== self)
      .flatMap((path) =>
        readFileSync(join(root, path), "utf8")
          .split("\n")
          .flatMap((line, i) =>
            OUTSIDE_REFERENCES.filter(([pattern]) => pattern.test(line)).map(
              ([, what]) => `${path}:${i + 1}: ${what}: ${line.trim()}`,
            ),
          ),
      );
    expect(problems).toEqual([]);
  });

  it("link docs/ files to each other by existing headings", () => {
    const problems: string[] = [];
    for (const name of readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md"))) {
      const path = posix.join("docs", name);
      readFileSync(join(root, path), "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const match of line.matchAll(/\]\(([\w./-]*?\.md)?(?:#([\w-]*))?\)/g)) {
            if (match[1] === undefined && match[2] === undefined) continue;
            const target = match[1] === undefined ? path : posix.join("docs", match[1]);
            const wrong = problem(target, match[2] || undefined);
            if (wrong !== null) problems.push(`${path}:${i + 1}: ${wrong}`);
          }
        });
    }
    expect(problems).toEqual([]);
  });
});
