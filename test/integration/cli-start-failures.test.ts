/**
 * `rr-tcp serve` on a config whose worker command cannot work, or whose address is taken, exits 1
 * at once with one error line that names the key, the command or address, and what happened,
 * each fact said once; the stack only at debug level (issue 15).
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scaled } from "../fixtures/eventually.js";
import { runCliToEnd, type CliRun } from "./cli-harness.js";
import { ROOT, TSX_LOADER } from "./harness.js";
import { aliasBomb } from "../fixtures/alias-bomb.js";

const CLI = join(ROOT, "src", "cli.ts");

interface Run {
  code: number | null;
  /** The JSON log lines on stderr. */
  lines: Array<Record<string, unknown> & { msg: string; level: number }>;
  stderr: string;
  ms: number;
}

/**
 * `rr-tcp serve -c` on `command` (a YAML flow list) and `addr`, after `setup` (given the config's
 * folder, the workers' cwd); resolves when it exits (15 s at most, scaled).
 */
async function serveWith(command: string, addr = "127.0.0.1:0", setup?: (dir: string) => void): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-cli-"));
  try {
    setup?.(dir);
    const file = join(dir, ".rr.yaml");
    writeFileSync(
      file,
      `server: { command: ${command} }\ntcp:\n  servers:\n    main: { addr: "${addr}" }\n  pool: { num_workers: 2, allocate_timeout: 3s }\n`,
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
    return { code, lines, stderr, ms: Date.now() - started };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The one error line, with each fact of `facts` in its message exactly once, the key it names
 * first, and no stack anywhere on stderr (the log level is info).
 */
function oneError(run: Run, key: string, ...facts: string[]): Record<string, unknown> {
  expect(run.code).toBe(1);
  const errors = run.lines.filter((l) => l.level >= 50);
  expect(errors, JSON.stringify(run.lines)).toHaveLength(1);
  const line = errors[0]!;
  expect(line.msg).toMatch(new RegExp(`^rr-tcp could not start: ${key.replace(/\./g, "\\.")}: `));
  expect(line.key).toBe(key);
  for (const fact of facts) expect(line.msg.split(fact), line.msg).toHaveLength(2);
  expect(run.stderr).not.toMatch(/^ {4}at /m);
  expect(run.stderr).not.toContain("\\n    at ");
  expect(line.err).toBeUndefined();
  return line;
}

/** A TCP port something else listens on, for as long as the test holds it. */
async function takenPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

describe("rr-tcp serve with a worker command that cannot work", () => {
  it("a command that does not exist: exit 1, one error naming the command and ENOENT", async () => {
    const run = await serveWith('["/no/such/worker", "--serve"]');
    const line = oneError(run, "server.command", 'cannot start worker command "/no/such/worker --serve"', "ENOENT");
    expect(line.cause).toBe("ENOENT");
    expect(run.ms).toBeLessThan(scaled(10_000));
  });

  it("a command that is not executable: exit 1, one error naming server.command and EACCES", async () => {
    const run = await serveWith('["./worker.sh"]', "127.0.0.1:0", (dir) => {
      writeFileSync(join(dir, "worker.sh"), "#!/bin/sh\nexit 0\n");
      chmodSync(join(dir, "worker.sh"), 0o644);
    });
    const line = oneError(run, "server.command", 'cannot start worker command "./worker.sh"', "EACCES");
    expect(line.cause).toBe("EACCES");
  });

  it("a port already in use: exit 1, one error naming tcp.servers.main.addr and EADDRINUSE", async () => {
    const { port, server } = await takenPort();
    try {
      // Workers that start, so the listen is what fails.
      const command = JSON.stringify([
        process.execPath,
        "--import",
        TSX_LOADER,
        join(ROOT, "examples", "echo-worker.ts"),
      ]);
      const run = await serveWith(command, `127.0.0.1:${port}`);
      // Node's own message repeats the code and the address (src/net/errors.ts listenFailure), so
      // these are checked as present, not as said once.
      const line = oneError(run, "tcp.servers.main.addr");
      expect(line.msg).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
      expect(line).toMatchObject({ code: "LISTEN_FAILED", address: `127.0.0.1:${port}`, cause: "EADDRINUSE" });
    } finally {
      server.close();
    }
  });

  it("a command that exits at once: its exit code and last words, once", async () => {
    const run = await serveWith('["sh", "-c", "echo cannot boot >&2; exit 3"]');
    oneError(run, "server.command", "exited with code 3 before the pid handshake", '"cannot boot"');
  });

  it("a worker that prints text instead of the handshake reply: the text quoted, once", async () => {
    const run = await serveWith('["sh", "-c", "echo Fatal error in worker.php; sleep 5"]');
    const line = oneError(
      run,
      "server.command",
      "failed the pid handshake: the worker printed text instead of a frame",
      '"Fatal error in worker.php\\n"',
    );
    expect(line.msg).not.toContain("pid handshake failed");
  });
});

describe("rr-tcp validate on hostile config (issue 15)", () => {
  /** `rr-tcp validate -c` on `text`, to its end. */
  async function validate(text: string): Promise<CliRun> {
    const dir = mkdtempSync(join(tmpdir(), "rr-tcp-validate-"));
    try {
      writeFileSync(join(dir, ".rr.yaml"), text);
      return await runCliToEnd(["validate", "-c", join(dir, ".rr.yaml")], dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("an alias bomb: exit 1, one ConfigError naming the file, no exception", async () => {
    const run = await validate(aliasBomb());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^rr-tcp: \S+\.rr\.yaml: invalid configuration \(1 problem\):\n {2}\(file\): YAML: /);
    expect(run.stderr).toContain("alias");
    expect(run.stderr).not.toMatch(/^ {4}at /m);
  });

  it("a bad IPv4 address: validate refuses it, naming the key", async () => {
    const run = await validate('server: { command: x }\ntcp: { servers: { main: { addr: "999.1.1.1:7000" } } }\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('tcp.servers.main.addr: "999.1.1.1:7000": "999.1.1.1" is not an IPv4 address');
  });
});
