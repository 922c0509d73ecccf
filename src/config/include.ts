/**
 * RoadRunner's `include:` key: a root `.rr.yaml` names other files, and their sections are read
 * as if written in the root. The rules are RoadRunner's config plugin's, so a split config loads
 * the same in both:
 *
 * - `include` is a list of paths at the top of the root file; a path is relative to the root
 *   file's directory (not the working directory), and `${VAR}`s in it are expanded, as RoadRunner
 *   expands every string of the root before it reads the list.
 * - The files are read in list order. Each must have the root's `version`.
 * - Every top-level key of an included file replaces the root's key of that name, whole (an
 *   included `tcp:` replaces the root's whole `tcp:` section, nothing is merged inside it); a
 *   later file wins over an earlier one.
 * - Only the root's list is read: an `include` in an included file is not followed (warned).
 *
 * This works on the raw data, before decoding, so `${VAR}` expansion, the schema's checks and the
 * `-o` overrides (applied after this) treat an included key exactly as one in the root. Each file
 * is read with the root's bounds (its size, aliases, nesting), and at most LIMITS.configIncludes
 * files are read.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { describeLimit, LIMITS } from "../limits.js";
import { show } from "./decode.js";
import { ConfigError, ConfigFileError, type ConfigIssue } from "./errors.js";
import { expandEnv, type EnvLookup } from "./expand-env.js";

/** The key, at the top of the root file. */
export const INCLUDE_KEY = "include";

/** What the include step needs besides the root's data. */
export interface IncludeOptions {
  /** Variables for `${VAR}` in the paths. */
  readonly env: EnvLookup;
  /**
   * Reads one file's data, bounded as the root's is (load.ts passes readConfigText +
   * parseConfigData: the reader is passed in so that this module and load.ts do not import each
   * other). @throws ConfigFileError, ConfigError
   */
  readonly read: (file: string) => Promise<unknown>;
}

/** The root's data with its included files' sections in it, `include` removed; and the warnings. */
export interface Included {
  readonly data: unknown;
  readonly warnings: readonly ConfigIssue[];
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A `version` as the decoder reads it (a number or a flag is its text); undefined when absent. */
function versionOf(data: Record<string, unknown>): string | undefined {
  const version = data.version;
  if (version === undefined || version === null) return undefined;
  return typeof version === "object" ? show(version) : String(version);
}

/**
 * Merges the included files into `root` (see the module comment). Data that is not a map, or has
 * no `include`, is returned as it is: the decoder reports a file that is no map.
 * @param rootFile the root file's path, which relative include paths are taken from
 * @throws ConfigError listing every include that cannot be used, each at `include[i]` with its path
 */
export async function applyIncludes(root: unknown, rootFile: string, options: IncludeOptions): Promise<Included> {
  if (!isMap(root) || !Object.hasOwn(root, INCLUDE_KEY)) return { data: root, warnings: [] };
  const list = root[INCLUDE_KEY];
  const fail = (issues: ConfigIssue[]): never => {
    throw new ConfigError(issues, rootFile);
  };
  if (list !== null && !Array.isArray(list))
    fail([{ path: INCLUDE_KEY, message: `must be a list of file paths (include: [more.rr.yaml]), got ${show(list)}` }]);
  // Null is `include:` with nothing after it: no files, as RoadRunner reads it.
  const entries: readonly unknown[] = Array.isArray(list) ? list : [];
  const limit = LIMITS.configIncludes;
  if (entries.length > limit.value)
    fail([
      { path: INCLUDE_KEY, message: `${entries.length} files is more than ${describeLimit(limit)}, ${limit.what}` },
    ]);

  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const rootVersion = versionOf(root);
  const dir = dirname(resolve(rootFile));
  const files: Record<string, unknown>[] = [];
  for (const [index, entry] of entries.entries()) {
    const path = `${INCLUDE_KEY}[${index}]`;
    const error = (message: string): void => void errors.push({ path, message });
    if (typeof entry !== "string") {
      error(`must be a file path (a string), got ${show(entry)}`);
      continue;
    }
    const named = expandEnv(entry, options.env).trim();
    if (named === "") {
      error(`${show(entry)} names no file`);
      continue;
    }
    const file = isAbsolute(named) ? named : join(dir, named);
    let data: unknown;
    try {
      data = await options.read(file);
    } catch (err) {
      if (err instanceof ConfigFileError) error(`${file}: cannot read it: ${(err.cause as Error).message}`);
      else if (err instanceof ConfigError) for (const issue of err.issues) error(`${file}: ${issue.message}`);
      else throw err;
      continue;
    }
    if (!isMap(data)) {
      error(`${file}: must be a map of top-level sections (version, tcp, ...), got ${show(data)}`);
      continue;
    }
    const version = versionOf(data);
    if (version !== rootVersion) {
      const theirs = version === undefined ? "has no version" : `has version ${JSON.stringify(version)}`;
      const ours =
        rootVersion === undefined ? "the root file has none" : `the root file's is ${JSON.stringify(rootVersion)}`;
      error(`${file}: ${theirs}, ${ours} (an included file must have the root's version, as RoadRunner requires)`);
      continue;
    }
    if (Object.hasOwn(data, INCLUDE_KEY))
      warnings.push({
        path,
        message: `${file}: its include is not followed: only the root file's include list is read, as RoadRunner does`,
      });
    files.push(data);
  }
  if (errors.length > 0) fail(errors);
  return { data: mergeTopLevel(root, files), warnings };
}

/**
 * `root` with each top-level key of each of `files` set over it in order (a later one wins), and
 * no `include`. A new object: the root's data is not changed. Built from entries so that a key
 * named `__proto__` stays a key.
 */
export function mergeTopLevel(
  root: Readonly<Record<string, unknown>>,
  files: ReadonlyArray<Readonly<Record<string, unknown>>>,
): Record<string, unknown> {
  const merged = new Map<string, unknown>();
  for (const data of [root, ...files])
    for (const [key, value] of Object.entries(data)) if (key !== INCLUDE_KEY) merged.set(key, value);
  return Object.fromEntries(merged);
}
