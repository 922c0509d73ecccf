/**
 * The release scripts in a scratch copy of the repository (proto/, buf.yaml, buf.gen.yaml,
 * package.json; node_modules symlinked, nothing installed): the lint's breaking check fails on a
 * renumbered field with buf's line, release:schema explains a breaking change instead of
 * recording it, and a breaking change released as rr.tcp.v2 leaves both packages generated and
 * both release images recorded (docs/releases.md).
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { releaseSchema } from "../../scripts/release-schema.js";
import { checkBreaking, copySchemaPackage, explainBreaking, readIndex } from "../../scripts/schema-releases.js";

const root = new URL("../../", import.meta.url).pathname;
const TSX = join(root, "node_modules/.bin/tsx");
const BUF = join(root, "node_modules/.bin/buf");

/** buf's line for the renumbered field of renumber(). */
const BUF_LINE = /proto\/rr\/tcp\/v(\d)\/tcp\.proto:\d+:\d+:Previously present field "3" with name "uuid" on message "RequestContext" was deleted\./;

// The repository's newest rr.tcp.v1 release, and the minor after it: what the tests release.
const V1_RELEASES = readIndex(root).releases.filter((r) => r.package === "rr.tcp.v1");
const LATEST = V1_RELEASES[V1_RELEASES.length - 1]!.version;
const [major, minor] = LATEST.split(".").map(Number) as [number, number];
const NEXT = `${major}.${minor + 1}.0`;

const scratches: string[] = [];
afterAll(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});

function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-release-"));
  scratches.push(dir);
  cpSync(join(root, "proto"), join(dir, "proto"), { recursive: true });
  for (const file of ["buf.yaml", "buf.gen.yaml", "package.json"]) cpSync(join(root, file), join(dir, file));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command in the scratch copy; asynchronous, so the tests of a file run side by side. */
function exec(dir: string, file: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: dir, encoding: "utf8" }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs one of this repository's scripts with the scratch copy as its root. */
const run = (dir: string, script: string, args: string[] = []): Promise<Run> =>
  exec(dir, TSX, [join(root, script), "--root", dir, ...args]);

const lintBreaking = (dir: string): Promise<Run> => run(dir, "scripts/lint/schema-breaking.ts");
const releaseCli = (dir: string, version: string): Promise<Run> => run(dir, "scripts/release-schema.ts", ["--version", version]);

/** A breaking change: RequestContext.uuid moves from field 3 to 7. */
function renumber(dir: string, major: number): void {
  const file = join(dir, `proto/rr/tcp/v${major}/tcp.proto`);
  const text = readFileSync(file, "utf8");
  expect(text).toContain("string uuid = 3;");
  writeFileSync(file, text.replace("string uuid = 3;", "string uuid = 7;"));
}

function expectNoStackTrace(output: string): void {
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toMatch(/\b\w*Error\b/);
}

describe.concurrent("the lint's breaking check", () => {
  it("fails on a renumbered field with buf's line naming it", async () => {
    const dir = scratchCopy();
    renumber(dir, 1);
    const result = await lintBreaking(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(BUF_LINE);
    expect(result.stderr).toContain(`breaks rr.tcp.v1 ${LATEST}`);
    expectNoStackTrace(result.stderr);
  });
});

describe.concurrent("release:schema", () => {
  it("explains a breaking change, records nothing and exits 1", async () => {
    const dir = scratchCopy();
    renumber(dir, 1);
    const indexBefore = readFileSync(join(dir, "proto/releases/index.json"), "utf8");
    const result = await releaseCli(dir, NEXT);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `proto/ breaks rr.tcp.v1 ${LATEST}, the release it is checked against (proto/releases/v${LATEST}.binpb)`,
    );
    expect(result.stderr).toMatch(BUF_LINE);
    expect(result.stderr).toContain("copy the package to rr.tcp.v2 (proto/rr/tcp/v2");
    expect(result.stderr).toContain("docs/releases.md");
    expectNoStackTrace(result.stderr + result.stdout);
    expect(readFileSync(join(dir, "proto/releases/index.json"), "utf8")).toBe(indexBefore);
    expect(existsSync(join(dir, `proto/releases/v${NEXT}.binpb`))).toBe(false);
  });

  it("asks for a version instead of guessing one", () => {
    const dir = scratchCopy();
    expect(() => releaseSchema(dir, { version: undefined })).toThrow(
      new RegExp(`npm run release:schema -- --version X\\.Y\\.Z .*${NEXT.replace(/\./g, "\\.")} adds to rr\\.tcp\\.v1`),
    );
    expect(() => releaseSchema(dir, { version: LATEST })).toThrow(`rr.tcp.v1 ${LATEST} is released already`);
    expect(() => releaseSchema(dir, { version: "2.1.0" })).toThrow("proto/rr/tcp/v2 does not exist");
  });

  it("releases a breaking change as rr.tcp.v2 beside rr.tcp.v1: both generated, both images recorded", async () => {
    const dir = scratchCopy();
    const copy = copySchemaPackage(dir, "rr.tcp.v1", "rr.tcp.v2");
    expect(copy.copied).toContain("proto/rr/tcp/v2/tcp.proto");
    expect(readFileSync(join(dir, "proto/rr/tcp/v2/tcp.proto"), "utf8")).toMatch(/^package rr\.tcp\.v2;$/m);
    renumber(dir, 2);

    // v2 has no release yet, so its breaking change is its own business; v1 is unchanged.
    releaseSchema(dir, { version: "2.0.0" });
    expect(readIndex(dir).releases).toEqual([
      ...readIndex(root).releases,
      { package: "rr.tcp.v2", version: "2.0.0", image: "v2.0.0.binpb" },
    ]);
    expect(readFileSync(join(dir, `proto/releases/v${LATEST}.binpb`))).toEqual(
      readFileSync(join(root, `proto/releases/v${LATEST}.binpb`)),
    );
    expect(existsSync(join(dir, "proto/releases/v2.0.0.binpb"))).toBe(true);
    expect((JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version).toBe("2.0.0");

    const generated = await exec(dir, BUF, ["generate"]);
    expect(generated.stderr).toBe("");
    for (const major of [1, 2]) {
      expect(readFileSync(join(dir, `gen/ts/rr/tcp/v${major}/tcp.ts`), "utf8")).toContain(
        `export const protobufPackage = "rr.tcp.v${major}";`,
      );
    }

    // Each package is checked against its own line: v2 against 2.0.0, v1 still against its newest.
    const checked = checkBreaking(dir);
    expect(checked.ok && checked.checked.map((c) => `${c.package} ${c.against.version}`)).toEqual(
      expect.arrayContaining([`rr.tcp.v1 ${LATEST}`, "rr.tcp.v2 2.0.0"]),
    );
    renumber(dir, 1);
    const broken = checkBreaking(dir);
    expect(broken.ok).toBe(false);
    const explained = broken.ok ? "" : explainBreaking(dir, broken, "lint");
    expect(explained).toContain(`breaks rr.tcp.v1 ${LATEST}`);
    expect(explained).toMatch(BUF_LINE);
    expect(explained).toContain("copy the package to rr.tcp.v3");
  });

  it("records an additive change as the next minor and moves package.json to it", () => {
    const dir = scratchCopy();
    const file = join(dir, "proto/rr/tcp/v1/tcp.proto");
    writeFileSync(file, readFileSync(file, "utf8") + "\n// A new message.\nmessage Added {\n  // A new field.\n  string added = 1;\n}\n");
    expect(releaseSchema(dir, { version: NEXT })).toContain(
      `recorded rr.tcp.v1 ${NEXT} in proto/releases/v${NEXT}.binpb and proto/releases/index.json`,
    );
    expect(readIndex(dir).releases.map((r) => r.version)).toEqual([...readIndex(root).releases.map((r) => r.version), NEXT]);
    expect(existsSync(join(dir, `proto/releases/v${NEXT}.binpb`))).toBe(true);
    expect((JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version).toBe(NEXT);
  });
});
