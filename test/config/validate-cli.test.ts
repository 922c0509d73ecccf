/**
 * `rr-tcp validate -c file` as users run it (a child process): a typo in a key rr-tcp reads fails
 * with the key's path and the key that was meant; RoadRunner's own configs pass, with warnings only.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCliToEnd, type CliRun } from "../integration/cli-harness.js";
import { ROOT } from "../integration/harness.js";

async function validate(file: string): Promise<CliRun> {
  return runCliToEnd(["validate", "-c", file], ROOT);
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-validate-"));
  dirs.push(dir);
  const file = join(dir, ".rr.yaml");
  writeFileSync(file, text);
  return file;
}

describe("rr-tcp validate", () => {
  it("fails on a typo'd key with its path and the key that was meant, exit 1", async () => {
    const file = configFile(
      "server:\n  command: node worker.js\ntcp:\n  servers:\n    main: { addr: 127.0.0.1:7000 }\n  pool:\n    num_worker: 2\n",
    );
    const run = await validate(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("tcp.pool.num_worker: unknown key (did you mean num_workers?)");
    expect(run.stdout).toBe("");
  });

  it("accepts a config split with include, read from the config file's folder, exit 0", async () => {
    const file = configFile('version: "3"\ninclude: [parts/tcp.yaml, parts/server.yaml]\n');
    const parts = join(dirname(file), "parts");
    mkdirSync(parts);
    writeFileSync(join(parts, "tcp.yaml"), 'version: "3"\ntcp:\n  servers:\n    main: { addr: 127.0.0.1:7123 }\n');
    writeFileSync(join(parts, "server.yaml"), 'version: "3"\nserver:\n  command: node worker.js\n');
    const run = await validate(file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("addr: 127.0.0.1:7123");
    expect(run.stdout).toMatch(/command:\s+- node\s+- worker\.js/);
  });

  it.each(["roadrunner-tcp.rr.yaml", "roadrunner-docs-tcp.rr.yaml"])(
    "accepts RoadRunner's %s, exit 0, with warnings only",
    async (name) => {
      const run = await validate(join(ROOT, "test", "fixtures", name));
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stderr.split("\n").filter((line) => line !== "");
      for (const line of lines) expect(line).toMatch(/^warning: /);
      expect(run.stdout).toContain("servers:");
    },
  );
});
