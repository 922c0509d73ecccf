/**
 * `rr-tcp serve` on a config whose worker command cannot work exits 1 at once with one
 * error line that names the command and what happened, each fact said once.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scaled } from "../fixtures/eventually.js";
import { ROOT, TSX_LOADER } from "./harness.js";

const CLI = join(ROOT, "src", "cli.ts");

interface Run {
  code: number | null;
  /** The JSON log lines on stderr. */
  lines: Array<Record<string, unknown> & { msg: string; level: number }>;
  ms: number;
}

/** `rr-tcp serve -c` on `command` (a YAML flow list); resolves when it exits (15 s at most, scaled). */
async function serveWith(command: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-cli-"));
  try {
    const file = join(dir, ".rr.yaml");
    writeFileSync(
      file,
      `server: { command: ${command} }\ntcp:\n  servers:\n    main: { addr: "127.0.0.1:0" }\n  pool: { num_workers: 2, allocate_timeout: 3s }\n`,
    );
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", TSX_LOADER, CLI, "serve", "-c", file], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), scaled(15_000));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    clearTimeout(timer);
    const lines = stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Run["lines"][number]);
    return { code, lines, ms: Date.now() - started };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The one error line, with each fact of `facts` in it exactly once (message and nested causes alike). */
function oneError(run: Run, ...facts: string[]): Record<string, unknown> {
  expect(run.code).toBe(1);
  const errors = run.lines.filter((l) => l.level >= 50);
  expect(errors, JSON.stringify(run.lines)).toHaveLength(1);
  const line = errors[0]!;
  expect(line.msg).toMatch(/^rr-tcp could not start: /);
  const err = line.err as { message: string };
  for (const fact of facts) {
    expect(line.msg).toContain(fact);
    expect(err.message.split(fact)).toHaveLength(2);
  }
  return line;
}

describe("rr-tcp serve with a worker command that cannot work", () => {
  it("a command that does not exist: exit 1, one error naming the command and ENOENT", async () => {
    const run = await serveWith('["/no/such/worker", "--serve"]');
    oneError(run, 'cannot start worker command "/no/such/worker --serve"', "ENOENT");
    expect(run.ms).toBeLessThan(scaled(10_000));
  });

  it("a command that exits at once: its exit code and last words, once", async () => {
    const run = await serveWith('["sh", "-c", "echo cannot boot >&2; exit 3"]');
    oneError(run, "exited with code 3 before the pid handshake", '"cannot boot"');
  });

  it("a worker that prints text instead of the handshake reply: the text quoted, once", async () => {
    const run = await serveWith('["sh", "-c", "echo Fatal error in worker.php; sleep 5"]');
    const line = oneError(
      run,
      "failed the pid handshake: the worker printed text instead of a frame",
      '"Fatal error in worker.php\\n"',
    );
    expect(line.msg).not.toContain("pid handshake failed");
  });
});
