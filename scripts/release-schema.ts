/**
 * Cuts a schema release (docs/releases.md): checks proto/ with `buf breaking` against the
 * releases so far, records proto/ as the image proto/releases/v<version>.binpb with its entry in
 * proto/releases/index.json, and moves the version the code and the npm package carry.
 *
 * Usage: npm run release:schema -- --version 1.1.0           (an additive change to rr.tcp.v1)
 *        npm run release:schema -- --version 2.0.0           (the first release of rr.tcp.v2)
 *        npm run release:schema -- --version 1.1.0 --force   (records 1.1.0 again)
 *        ... --root <dir>                                    (a checkout other than the cwd)
 *
 * The version's major names the package it releases: 1.x.y is rr.tcp.v1, 2.x.y rr.tcp.v2.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buf,
  checkBreaking,
  compareVersions,
  explainBreaking,
  newestMajor,
  newestRelease,
  packageDir,
  packageForVersion,
  parseVersion,
  readIndex,
  RELEASES_DIR,
  rootArgument,
  writeIndex,
  type Release,
} from "./schema-releases.js";

const WHO = "release:schema";
/** The code's copy of the version it speaks; this script writes it, test/schema checks it. */
export const VERSION_MODULE = "src/protocol/schema-version.ts";

/** Why a release was not cut: the message is the whole story, so the CLI prints no stack trace. */
export class ReleaseRefused extends Error {
  override readonly name = "ReleaseRefused";
}

export interface ReleaseOptions {
  /** MAJOR.MINOR.PATCH; its major names the package (1.x.y is rr.tcp.v1). */
  readonly version: string | undefined;
  /** Records a version that is released already again. */
  readonly force?: boolean;
}

/** Cuts the release in `root`; returns what it did, line by line, or throws ReleaseRefused. */
export function releaseSchema(root: string, { version, force = false }: ReleaseOptions): string[] {
  const refuse = (message: string): never => {
    throw new ReleaseRefused(`${WHO}: ${message}\n`);
  };
  const index = readIndex(root);
  if (version === undefined || !parseVersion(version)) {
    const released = index.releases.map((r) => `${r.package} ${r.version}`).join(", ") || "none";
    const hints = [...new Set(index.releases.map((r) => r.package))].map((pkg) => {
      const [major, minor] = parseVersion(newestRelease(index, pkg)!.version)!;
      return `${major}.${minor + 1}.0 adds to ${pkg}`;
    });
    return refuse(
      `${version === undefined ? "say which version to release" : `"${version}" is not MAJOR.MINOR.PATCH`}: ` +
        `npm run release:schema -- --version X.Y.Z (released so far: ${released}${hints.length ? `; ${hints.join(", ")}` : ""}).`,
    );
  }
  const pkg = packageForVersion(version);
  const [major, minor, patch] = parseVersion(version)!;
  if (!existsSync(join(root, packageDir(pkg)))) {
    refuse(
      `${version} would be a release of ${pkg}, and ${packageDir(pkg)} does not exist. A new major is a copy of the ` +
        `previous package (\`npm run schema:new-major\`); see docs/releases.md.`,
    );
  }
  const line = newestRelease(index, pkg);
  if (line === undefined && (minor !== 0 || patch !== 0)) {
    refuse(`${pkg} has no release yet: its first version is ${major}.0.0, not ${version}.`);
  }
  if (line !== undefined) {
    const order = compareVersions(version, line.version);
    if (order === 0 && !force) {
      refuse(`${pkg} ${version} is released already; release the next version (or pass --force to record it again).`);
    }
    if (order < 0) refuse(`${pkg} is at ${line.version} already; a release must be newer than that.`);
  }

  const breaking = checkBreaking(root);
  if (!breaking.ok) throw new ReleaseRefused(explainBreaking(root, breaking, WHO) + `${WHO}: nothing was recorded.\n`);

  const done: string[] = [];
  const release: Release = { package: pkg, version, image: `v${version}.binpb` };
  const image = join(root, RELEASES_DIR, release.image);
  const built = buf(root, ["build", "--exclude-source-info", "-o", image]);
  if (built.status !== 0) {
    rmSync(image, { force: true });
    refuse(`buf build failed:\n  ${built.output.split("\n").join("\n  ")}`);
  }
  writeIndex(root, { releases: [...index.releases.filter((r) => r.version !== version), release] });
  done.push(`recorded ${pkg} ${version} in ${RELEASES_DIR}/${release.image} and ${RELEASES_DIR}/index.json`);

  // The version the code speaks: SCHEMA_VERSION, when the code speaks this package.
  const versionModule = join(root, VERSION_MODULE);
  if (existsSync(versionModule)) {
    const text = readFileSync(versionModule, "utf8");
    const spoken = /gen\/ts\/rr\/tcp\/v(\d+)\//.exec(text)?.[1];
    if (spoken === String(major)) {
      writeFileSync(versionModule, text.replace(/(SCHEMA_VERSION\s*=\s*")[^"]*(")/, `$1${version}$2`));
      done.push(`SCHEMA_VERSION in ${VERSION_MODULE} is ${version}`);
    } else if (spoken !== undefined && Number(spoken) < major) {
      done.push(
        `the code still speaks rr.tcp.v${spoken}: move it (SCHEMA_PACKAGE's import in ${VERSION_MODULE}) to ${pkg}; see docs/releases.md`,
      );
    }
  }

  // The npm version carries the newest major's MAJOR.MINOR (docs/releases.md#the-version-rule).
  const manifest = join(root, "package.json");
  if (existsSync(manifest) && newestMajor(readIndex(root))?.version === version) {
    const text = readFileSync(manifest, "utf8");
    const current = (JSON.parse(text) as { version: string }).version;
    const [pMajor, pMinor] = parseVersion(current) ?? [-1, -1];
    if (pMajor !== major || pMinor !== minor) {
      const next = `${major}.${minor}.0`;
      writeFileSync(manifest, text.replace(/("version"\s*:\s*")[^"]*(")/, `$1${next}$2`));
      const lockFile = join(root, "package-lock.json");
      if (existsSync(lockFile)) {
        const lock = JSON.parse(readFileSync(lockFile, "utf8")) as {
          version?: string;
          packages?: Record<string, { version?: string }>;
        };
        lock.version = next;
        if (lock.packages?.[""]) lock.packages[""].version = next;
        writeFileSync(lockFile, JSON.stringify(lock, null, 2) + "\n");
      }
      done.push(`package.json version ${current} -> ${next}`);
    } else {
      done.push(`package.json ${current} carries schema ${major}.${minor} already (bump its patch when you publish)`);
    }
  }
  done.push(
    "now run npm run gen:bindings (the binding packages carry the schema version), add the release to CHANGELOG.md, and commit proto/releases and gen/ with the change",
  );
  return done;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argument = (name: string): string | undefined => {
    const at = process.argv.indexOf(name);
    return at >= 0 ? process.argv[at + 1] : undefined;
  };
  try {
    const done = releaseSchema(rootArgument(process.argv), {
      version: argument("--version"),
      force: process.argv.includes("--force"),
    });
    for (const line of done) console.log(`${WHO}: ${line}`);
  } catch (err) {
    if (!(err instanceof ReleaseRefused)) throw err;
    process.stderr.write(err.message);
    process.exitCode = 1;
  }
}
