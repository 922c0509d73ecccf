/**
 * The schema's releases (docs/releases.md): proto/releases/index.json lists them, one buf image
 * each (proto/releases/v<version>.binpb), and every protobuf package still in proto/ is checked
 * with `buf breaking` against the newest release that has it. A committed image works in CI's
 * fresh clone, where a git ref to compare with is not there.
 *
 * Used by `npm run lint` (scripts/lint/schema-breaking.ts), `npm run release:schema` and
 * `npm run schema:new-major`. Every function takes the repository root, so the tests run them
 * in a scratch copy; buf itself always comes from this checkout's node_modules.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";

/** The buf module's folder (buf.yaml `modules[0].path`); file names in images are relative to it. */
export const PROTO_DIR = "proto";
/** Where the release images and their index live, relative to the repository root. */
export const RELEASES_DIR = "proto/releases";
export const RELEASE_INDEX = "proto/releases/index.json";
/** The schema's packages are `rr.tcp.v<major>`; a schema version's major names its package. */
export const SCHEMA_FAMILY = "rr.tcp";

/** One released schema version: the image of the whole of proto/ when it was released. */
export interface Release {
  /** The package this release is a version of: `rr.tcp.v<major of version>`. */
  readonly package: string;
  /** MAJOR.MINOR.PATCH. */
  readonly version: string;
  /** The image's file name in proto/releases. */
  readonly image: string;
}

export interface ReleaseIndex {
  readonly releases: readonly Release[];
}

const BUF = fileURLToPath(new URL("../node_modules/@bufbuild/buf/bin/buf", import.meta.url));

export interface BufResult {
  readonly status: number;
  readonly output: string;
}

/** Runs buf in `root`; never throws for a non-zero exit. */
export function buf(root: string, args: readonly string[]): BufResult {
  const result = spawnSync(process.execPath, [BUF, ...args], { cwd: root, encoding: "utf8" });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, output: (result.stdout + result.stderr).trim() };
}

/** The `--root <dir>` argument, or the current directory. */
export function rootArgument(argv: readonly string[]): string {
  const at = argv.indexOf("--root");
  return resolve(at >= 0 && argv[at + 1] !== undefined ? argv[at + 1]! : process.cwd());
}

// ---- versions ----

export type Version = readonly [major: number, minor: number, patch: number];

export function parseVersion(text: string): Version | undefined {
  const match = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  if (!x || !y) throw new Error(`not a MAJOR.MINOR.PATCH version: ${x ? b : a}`);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** `rr.tcp.v2` for 2.x.y. */
export function packageForVersion(version: string): string {
  return `${SCHEMA_FAMILY}.v${parseVersion(version)![0]}`;
}

/** The folder of a package, relative to the root: rr.tcp.v2 -> proto/rr/tcp/v2. */
export function packageDir(pkg: string): string {
  return posix.join(PROTO_DIR, ...pkg.split("."));
}

/** The package after a breaking change: rr.tcp.v1 -> rr.tcp.v2. */
export function nextMajorPackage(pkg: string): string {
  const match = /^(.*\.v)(\d+)$/.exec(pkg);
  return match ? `${match[1]}${Number(match[2]) + 1}` : `${pkg}.v2`;
}

// ---- the index ----

export function readIndex(root: string): ReleaseIndex {
  const file = join(root, RELEASE_INDEX);
  if (!existsSync(file)) return { releases: [] };
  return JSON.parse(readFileSync(file, "utf8")) as ReleaseIndex;
}

export function writeIndex(root: string, index: ReleaseIndex): void {
  const releases = [...index.releases].sort((a, b) => compareVersions(a.version, b.version));
  mkdirSync(join(root, RELEASES_DIR), { recursive: true });
  writeFileSync(join(root, RELEASE_INDEX), JSON.stringify({ releases }, null, 2) + "\n");
}

/** The newest release of `pkg`'s own line (rr.tcp.v1: the newest 1.x.y), if any. */
export function newestRelease(index: ReleaseIndex, pkg: string): Release | undefined {
  return index.releases
    .filter((r) => r.package === pkg)
    .reduce<Release | undefined>(
      (newest, r) => (!newest || compareVersions(r.version, newest.version) > 0 ? r : newest),
      undefined,
    );
}

/** The schema package with the highest major that has a release (what the npm version carries). */
export function newestMajor(index: ReleaseIndex): Release | undefined {
  return index.releases.reduce<Release | undefined>(
    (newest, r) => (!newest || compareVersions(r.version, newest.version) > 0 ? r : newest),
    undefined,
  );
}

// ---- images ----

/** An image's files (buf images are FileDescriptorSets with buf's own extension fields). */
function readImage(file: string): FileDescriptorProto[] {
  return fromBinary(FileDescriptorSetSchema, readFileSync(file)).file;
}

/** Each protobuf package in an image and its files (names relative to proto/). */
export function imagePackages(file: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  for (const f of readImage(file)) packages.set(f.package, [...(packages.get(f.package) ?? []), f.name]);
  return packages;
}

/** The packages of the .proto files in proto/, from their `package` lines (buf lint keeps them in their folder). */
export function treePackages(root: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, PROTO_DIR, dir), { withFileTypes: true })) {
      const name = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(name);
      else if (entry.name.endsWith(".proto")) {
        const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(readFileSync(join(root, PROTO_DIR, name), "utf8"))?.[1] ?? "";
        packages.set(pkg, [...(packages.get(pkg) ?? []), name]);
      }
    }
  };
  walk("");
  return packages;
}

/**
 * The release a package is checked against: the newest of its own line when it has one (so
 * rr.tcp.v1 stays checked against the v1.x images after rr.tcp.v2 exists), otherwise the newest
 * release whose image has it (rr.goridge.v1, released inside an rr.tcp.v1 image).
 */
export function baselineFor(
  pkg: string,
  index: ReleaseIndex,
  packagesOf: (release: Release) => Map<string, string[]>,
): Release | undefined {
  return (
    newestRelease(index, pkg) ??
    [...index.releases]
      .sort((a, b) => compareVersions(b.version, a.version))
      .find((release) => packagesOf(release).has(pkg))
  );
}

// ---- the breaking check ----

export interface BreakingFailure {
  readonly package: string;
  readonly against: Release;
  /** buf's lines (path:line:column:message), paths relative to the repository root. */
  readonly lines: readonly string[];
}

export type BreakingResult =
  | { readonly ok: true; readonly checked: ReadonlyArray<{ package: string; against: Release }> }
  | { readonly ok: false; readonly buildError: string }
  | { readonly ok: false; readonly failures: readonly BreakingFailure[] };

/** One line of `buf breaking --error-format json`. */
interface BufAnnotation {
  readonly path?: string;
  readonly start_line?: number;
  readonly start_column?: number;
  readonly type: string;
  readonly message: string;
}

/**
 * The image each package is checked against, as one image: every released package still in
 * proto/ with its files from its baseline (baselineFor), and the files they import. One
 * `buf breaking` then checks all packages, and none is compared with another's release.
 */
function baselineImage(
  root: string,
  index: ReleaseIndex,
  working: Map<string, string[]>,
): { files: FileDescriptorProto[]; baselines: Map<string, Release> } {
  const images = new Map<string, FileDescriptorProto[]>();
  const imageOf = (release: Release): FileDescriptorProto[] => {
    if (!images.has(release.image)) images.set(release.image, readImage(join(root, RELEASES_DIR, release.image)));
    return images.get(release.image)!;
  };
  const packagesOf = (release: Release): Map<string, string[]> => {
    const packages = new Map<string, string[]>();
    for (const f of imageOf(release)) packages.set(f.package, [...(packages.get(f.package) ?? []), f.name]);
    return packages;
  };
  const baselines = new Map<string, Release>();
  const chosen = new Map<string, { file: FileDescriptorProto; from: FileDescriptorProto[] }>();
  for (const pkg of [...working.keys()].sort()) {
    const release = baselineFor(pkg, index, packagesOf);
    if (!release) continue; // never released: nothing to break yet
    baselines.set(pkg, release);
    const image = imageOf(release);
    for (const file of image) if (file.package === pkg) chosen.set(file.name, { file, from: image });
  }
  // Imports come from the image that imports them, unless their own package put them in already;
  // in dependency order, as images have them.
  const ordered: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  const place = (file: FileDescriptorProto, from: FileDescriptorProto[]): void => {
    if (placed.has(file.name)) return;
    placed.add(file.name);
    for (const dep of file.dependency) {
      const own = chosen.get(dep);
      const imported = own ?? { file: from.find((f) => f.name === dep)!, from };
      if (imported.file) place(imported.file, imported.from);
    }
    ordered.push(file);
  };
  for (const { file, from } of chosen.values()) place(file, from);
  return { files: ordered, baselines };
}

/**
 * `buf breaking` for every package in proto/ that has a release, against its newest release
 * (baselineFor). A package whose folder is gone is not checked: removing proto/rr/tcp/v1
 * retires rr.tcp.v1. Unreleased packages have nothing to break.
 */
export function checkBreaking(root: string): BreakingResult {
  const index = readIndex(root);
  const working = treePackages(root);
  const { files, baselines } = baselineImage(root, index, working);
  const checked = [...baselines].map(([pkg, against]) => ({ package: pkg, against }));
  if (checked.length === 0) return { ok: true, checked };
  const scratch = mkdtempSync(join(tmpdir(), "rr-tcp-breaking-"));
  try {
    const against = join(scratch, "baseline.binpb");
    writeFileSync(against, toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files })));
    const result = buf(root, ["breaking", "--against", against, "--exclude-imports", "--error-format", "json"]);
    if (result.status === 0) return { ok: true, checked };
    let annotations: BufAnnotation[];
    try {
      annotations = result.output.split("\n").map((line) => JSON.parse(line) as BufAnnotation);
    } catch {
      return { ok: false, buildError: result.output }; // not a breaking change: proto/ does not build
    }
    const packageOfFile = new Map(files.map((f) => [f.name, f.package]));
    for (const [pkg, names] of working) for (const name of names) packageOfFile.set(name, pkg);
    const failures = new Map<string, string[]>();
    for (const a of annotations) {
      // A deleted file has no path; its message names it.
      const file = a.path?.replace(`${PROTO_DIR}/`, "") ?? /file "([^"]+)"/.exec(a.message)?.[1] ?? "";
      const pkg = packageOfFile.get(file) ?? "";
      const line = `${a.path ?? "<input>"}:${a.start_line ?? 1}:${a.start_column ?? 1}:${a.message}`;
      failures.set(pkg, [...(failures.get(pkg) ?? []), line]);
    }
    return {
      ok: false,
      failures: [...failures]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([pkg, lines]) => ({
          package: pkg,
          against: baselines.get(pkg) ?? { package: pkg, version: "?", image: "?" },
          lines,
        })),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Where a breaking change to `pkg` goes instead: the newest major of its family when that one is
 * not released yet (the change joins it), otherwise a copy one above it.
 */
export function breakingChangeTarget(
  root: string,
  pkg: string,
  index: ReleaseIndex,
): { package: string; exists: boolean } {
  const match = /^(.*)\.v(\d+)$/.exec(pkg);
  if (!match) return { package: nextMajorPackage(pkg), exists: false };
  const family = join(root, PROTO_DIR, ...match[1]!.split("."));
  const majors = readdirSync(family)
    .map((entry) => /^v(\d+)$/.exec(entry)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number);
  const top = Math.max(Number(match[2]), ...majors);
  const topPackage = `${match[1]}.v${top}`;
  if (topPackage !== pkg && !index.releases.some((r) => r.package === topPackage)) {
    return { package: topPackage, exists: true };
  }
  return { package: `${match[1]}.v${top + 1}`, exists: false };
}

/** What a failed check means and what to do, as one message (no stack trace). */
export function explainBreaking(root: string, result: Exclude<BreakingResult, { ok: true }>, who: string): string {
  if ("buildError" in result)
    return `${who}: proto/ does not build:\n  ${result.buildError.split("\n").join("\n  ")}\n`;
  const index = readIndex(root);
  return result.failures
    .map(({ package: pkg, against, lines }) => {
      const target = breakingChangeTarget(root, pkg, index);
      const major = /\.v(\d+)$/.exec(target.package)?.[1];
      const release =
        major !== undefined && target.package === `${SCHEMA_FAMILY}.v${major}`
          ? ` (\`npm run release:schema -- --version ${major}.0.0\`)`
          : "";
      const where = target.exists
        ? `make it in ${target.package} (${packageDir(target.package)}, not released yet)`
        : `copy the package to ${target.package} (${packageDir(target.package)}: \`npm run schema:new-major\`) and make it there`;
      return (
        `${who}: proto/ breaks ${pkg} ${against.version}, the release it is checked against (${RELEASES_DIR}/${against.image}):\n` +
        lines.map((line) => `  ${line}\n`).join("") +
        `A released package never breaks: undo the change in ${packageDir(pkg)}. To make a breaking change, ` +
        `${where}, then release ${target.package}${release}. See docs/releases.md.\n`
      );
    })
    .join("");
}

// ---- a new major package ----

export interface CopiedPackage {
  readonly from: string;
  readonly to: string;
  /** Files written to the new package's folder. */
  readonly copied: readonly string[];
  /**
   * Files that declare extensions (`extend google.protobuf.FieldOptions { ... }`): an extension
   * number may be used once in the whole module, so these stay in the old package and the
   * copies import them from there.
   */
  readonly kept: readonly string[];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The names of the extensions a file declares. */
function extensionNames(text: string): string[] {
  const names: string[] = [];
  for (const block of text.matchAll(/^\s*extend\s+[\w.]+\s*\{([^}]*)\}/gm)) {
    for (const field of block[1]!.matchAll(/(\w+)\s*=\s*\d+/g)) names.push(field[1]!);
  }
  return names;
}

/**
 * Copies package `from` (rr.tcp.v1) to `to` (rr.tcp.v2) beside it: the package line, imports of
 * its own files and qualified names move to the new package; files that declare extensions are
 * kept (see CopiedPackage.kept) and the copies name their extensions fully (`(rr.tcp.v1.spec)`).
 */
export function copySchemaPackage(root: string, from: string, to: string): CopiedPackage {
  const fromDir = join(root, packageDir(from));
  const toDir = join(root, packageDir(to));
  if (!existsSync(fromDir)) throw new Error(`${packageDir(from)} does not exist`);
  if (existsSync(toDir)) throw new Error(`${packageDir(to)} exists already`);
  const [fromPath, toPath] = [from.split(".").join("/"), to.split(".").join("/")];
  const files = readdirSync(fromDir).filter((f) => f.endsWith(".proto"));
  const texts = new Map(files.map((f) => [f, readFileSync(join(fromDir, f), "utf8")]));
  const kept = files.filter((f) => extensionNames(texts.get(f)!).length > 0);
  const extensions = kept.flatMap((f) => extensionNames(texts.get(f)!));
  const copied = files.filter((f) => !kept.includes(f));
  mkdirSync(toDir, { recursive: true });
  for (const file of copied) {
    let text = texts
      .get(file)!
      .replace(new RegExp(`\\b${escapeRegExp(from)}\\b`, "g"), to)
      .replace(new RegExp(`\\b${escapeRegExp(fromPath)}/`, "g"), `${toPath}/`);
    for (const k of kept) text = text.split(`"${toPath}/${k}"`).join(`"${fromPath}/${k}"`);
    for (const name of extensions) {
      text = text.replace(new RegExp(`\\(\\s*\\.?(?:${escapeRegExp(to)}\\.)?${name}\\s*\\)`, "g"), `(${from}.${name})`);
    }
    writeFileSync(join(toDir, file), text);
  }
  return {
    from,
    to,
    copied: copied.map((f) => `${packageDir(to)}/${f}`),
    kept: kept.map((f) => `${packageDir(from)}/${f}`),
  };
}

/** The schema packages in proto/ (rr.tcp.v1, rr.tcp.v2, ...), by major. */
export function schemaPackagesInTree(root: string): number[] {
  const dir = join(root, PROTO_DIR, ...SCHEMA_FAMILY.split("."));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((entry) => /^v(\d+)$/.exec(entry))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
