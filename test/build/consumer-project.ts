/**
 * What test/build/pack.test.ts needs to pack a checkout and install the tarball into a new project
 * without the network: a copy of the working tree, the new project's package.json and lockfile
 * (taken from this repository's lockfile, so every package is one npm ci of the repository put in
 * npm's cache), and an environment that keeps the repository out of the children's way.
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

/**
 * Copies the working tree's files (tracked and untracked, minus what .gitignore names: no dist/,
 * no node_modules/) to `dest`, with node_modules linked back to the repository's, so building there
 * is building a fresh clone with the local changes in it, and leaves the repository alone.
 */
export function copyWorkingTree(root: string, dest: string): void {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of listed.split("\0")) {
    if (file === "" || !existsSync(join(root, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(join(root, file), join(dest, file));
  }
  symlinkSync(join(root, "node_modules"), join(dest, "node_modules"));
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

interface Lockfile {
  packages: Record<string, LockEntry>;
}

/** The packed package's manifest, as far as its lockfile entry repeats it. */
export interface PackedManifest {
  name: string;
  version: string;
  license?: string;
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

/** Where Node would find `name` from the package at `from` in a lockfile's tree ("" is the root). */
function resolveIn(packages: Lockfile["packages"], from: string, name: string): string | undefined {
  for (let base = from; ;) {
    const path = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
    if (packages[path]) return path;
    if (base === "") return undefined;
    const up = base.lastIndexOf("/node_modules/");
    base = up < 0 ? "" : base.slice(0, up);
  }
}

/**
 * A new ESM project's package.json and package-lock.json: the tarball at `tarballSpec` (a `file:`
 * spec relative to the project) and `tools` at the repository's locked versions, with the locked
 * tree of everything they need. `npm ci --offline` then needs no packument but those npm ci of
 * the repository cached: `npm install --offline <spec>` does not work from that cache, because
 * npm 11 asks the registry for full packuments when it resolves a spec and caches only the
 * abbreviated ones when it installs a lockfile.
 */
export function consumerProject(
  repoLock: Lockfile,
  packed: PackedManifest,
  tarball: { spec: string; integrity: string },
  tools: readonly string[],
): { packageJson: Record<string, unknown>; lock: Record<string, unknown> } {
  const locked = repoLock.packages;
  const wanted = new Map<string, LockEntry>();
  const visit = (path: string): void => {
    if (wanted.has(path)) return;
    const entry = locked[path]!;
    wanted.set(path, entry);
    const required = Object.keys({ ...entry.dependencies });
    for (const [name] of Object.entries(entry.peerDependencies ?? {})) {
      if (!entry.peerDependenciesMeta?.[name]?.optional) required.push(name);
    }
    for (const name of required) {
      const found = resolveIn(locked, path, name);
      if (found === undefined) throw new Error(`package-lock.json has no ${name} for ${path}`);
      visit(found);
    }
    // Other platforms' optional packages (esbuild's, fsevents) are locked but need not be there.
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      const found = resolveIn(locked, path, name);
      if (found !== undefined) visit(found);
    }
  };
  const pinned: Record<string, string> = {};
  for (const tool of tools) {
    const entry = locked[`node_modules/${tool}`];
    if (entry?.version === undefined) throw new Error(`package-lock.json does not lock ${tool}`);
    pinned[tool] = entry.version;
    visit(`node_modules/${tool}`);
  }
  for (const name of Object.keys(packed.dependencies ?? {})) visit(`node_modules/${name}`);

  const dependencies = { [packed.name]: tarball.spec, ...pinned };
  const packages: Record<string, unknown> = { "": { name: "consumer", dependencies } };
  packages[`node_modules/${packed.name}`] = {
    version: packed.version,
    resolved: tarball.spec,
    integrity: tarball.integrity,
    license: packed.license,
    dependencies: packed.dependencies,
    bin: packed.bin,
    engines: packed.engines,
  };
  for (const [path, entry] of [...wanted].sort(([a], [b]) => a.localeCompare(b))) {
    // The repository's dev flags say nothing about this project, where these are dependencies.
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...rest } = entry;
    packages[path] = rest;
  }
  return {
    packageJson: { name: "consumer", private: true, type: "module", dependencies },
    lock: { name: "consumer", lockfileVersion: 3, requires: true, packages },
  };
}

/**
 * The environment for npm and the installed commands: without the variables npm sets for a script
 * (when the tests run under `npm test`, they name this repository as the package and its prefix),
 * and without this repository's node_modules/.bin on PATH, so a command missing from the new
 * project cannot be found in the repository instead.
 */
export function consumerEnv(root: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.startsWith(root))
    .join(delimiter);
  return env;
}

/** Runs a command to completion; fails with its output when it fails or outlives `timeout` ms. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`${command} ${args.join(" ")} failed (${error.message})\nstdout:\n${stdout}\nstderr:\n${stderr}`),
        );
      } else resolve(stdout);
    });
  });
}

/** The sha512 integrity npm writes in a lockfile for a file. */
export function integrityOf(file: string): string {
  return `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
}
