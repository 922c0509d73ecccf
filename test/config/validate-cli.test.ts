/**
 * `rr-tcp validate -c file` as users run it (a child process): a typo in a key rr-tcp reads fails
 * with the key's path and the key that was meant; RoadRunner's own configs pass, with warnings only.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { within } from "../fixtures/eventually.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TSX_LOADER = pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
const CLI = join(ROOT, "src", "cli.ts");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function validate(file: string): Promise<Run> {
  const child = spawn(process.execPath, ["--import", TSX_LOADER, CLI, "validate", "-c", file], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await within(
    new Promise<number | null>((resolve) => child.once("close", (exitCode) => resolve(exitCode))),
    { timeout: 15_000, what: "rr-tcp validate to exit" },
  );
  return { code, stdout, stderr };
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
