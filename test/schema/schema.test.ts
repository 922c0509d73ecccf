/**
 * The schema's releases as committed (docs/releases.md): every package in proto/ is compatible
 * with its newest release, the index matches its images, and the code, package.json and
 * CHANGELOG.md carry the version the index says.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCHEMA_PACKAGE, SCHEMA_VERSION } from "../../src/protocol/index.js";
import {
  checkBreaking,
  imagePackages,
  newestMajor,
  newestRelease,
  packageForVersion,
  parseVersion,
  readIndex,
  RELEASES_DIR,
} from "../../scripts/schema-releases.js";

const root = new URL("../../", import.meta.url).pathname;
const index = readIndex(root);

describe("published schema", () => {
  it("has no breaking change against the newest release of each package", () => {
    const result = checkBreaking(root);
    expect(result).toMatchObject({ ok: true });
    const checked = result.ok ? result.checked.map((c) => `${c.package} ${c.against.version}`) : [];
    expect(checked).toContain(`${SCHEMA_PACKAGE} ${SCHEMA_VERSION}`);
  });

  it("keeps one image per release, named by its version, holding its package", () => {
    expect(index.releases.length).toBeGreaterThan(0);
    expect(new Set(index.releases.map((r) => r.version)).size).toBe(index.releases.length);
    for (const release of index.releases) {
      expect(parseVersion(release.version), release.version).toBeDefined();
      expect(release.package).toBe(packageForVersion(release.version));
      expect(release.image).toBe(`v${release.version}.binpb`);
      const image = join(root, RELEASES_DIR, release.image);
      expect(existsSync(image), image).toBe(true);
      expect([...imagePackages(image).keys()]).toContain(release.package);
    }
    expect(index.releases[0]).toEqual({ package: "rr.tcp.v1", version: "1.0.0", image: "v1.0.0.binpb" });
  });

  it("is what the code speaks: the newest release of the newest major", () => {
    expect(SCHEMA_PACKAGE).toBe(newestMajor(index)!.package);
    expect(SCHEMA_VERSION).toBe(newestRelease(index, SCHEMA_PACKAGE)!.version);
  });

  it("names the npm version: package MAJOR.MINOR is the schema's MAJOR.MINOR", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    const [major, minor] = parseVersion(SCHEMA_VERSION)!;
    expect(parseVersion(pkg.version), pkg.version).toBeDefined();
    expect(pkg.version.split(".").slice(0, 2).join("."), `package ${pkg.version}, schema ${SCHEMA_VERSION}`).toBe(
      `${major}.${minor}`,
    );
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { version: string };
    expect(lock.version).toBe(pkg.version);
  });

  it("is in CHANGELOG.md: the package version and every schema release", () => {
    const changelog = readFileSync(join(root, "CHANGELOG.md"), "utf8");
    const headings = changelog.split("\n").filter((line) => line.startsWith("## "));
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(headings).toContain(`## rr-tcp ${pkg.version} (schema ${SCHEMA_PACKAGE} ${SCHEMA_VERSION})`);
    for (const release of index.releases) expect(headings).toContain(`## Schema ${release.package} ${release.version}`);
  });

  it("passes buf lint", () => {
    execFileSync("npx", ["--no-install", "buf", "lint"], { cwd: root });
  });
});
