/**
 * The server's logger from `logs`: each mode and encoding writes the lines it promises (JSON lines
 * parse, console lines match their format), to stderr, stdout or a file.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { LogsOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { ConfigError } from "../../src/config/index.js";
import { createLogger, logShape } from "../../src/service/index.js";
import { within } from "../fixtures/eventually.js";
import { ROOT, TSX_LOADER } from "../integration/harness.js";

/** HH:MM:SS.mmm, then the level padded to five. */
const CONSOLE_PREFIX = /^\d{2}:\d{2}:\d{2}\.\d{3} /;
const ANSI = /\x1b\[[0-9;]*m/g;

function logs(fields: Partial<LogsOptions>): LogsOptions {
  return { ...LogsOptions.create(), ...fields };
}

/** A logger writing into an array, and what it wrote. */
function capture(
  options: Partial<LogsOptions> | undefined,
  extra: { isTTY?: boolean; colors?: boolean; levelOverride?: string } = {},
) {
  const written: string[] = [];
  const logger = createLogger(options && logs(options), { ...extra, stream: { write: (s) => void written.push(s) } });
  return { logger, written };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("createLogger", () => {
  it("production: pino JSON lines with level, time, pid and the fields", () => {
    const { logger, written } = capture({ mode: "production" });
    logger.info({ servers: { main: "127.0.0.1:7000" } }, "rr-tcp ready");
    expect(written).toHaveLength(1);
    expect(written[0]!.endsWith("\n")).toBe(true);
    expect(JSON.parse(written[0]!)).toMatchObject({
      level: 30,
      pid: process.pid,
      msg: "rr-tcp ready",
      servers: { main: "127.0.0.1:7000" },
      time: expect.any(Number),
    });
  });

  it("development: one readable line per record, colored only for a terminal or when asked", () => {
    const plain = capture({ mode: "development" }, { isTTY: false });
    plain.logger.info({ servers: { main: "127.0.0.1:7000" }, workerPid: 12 }, "rr-tcp ready");
    plain.logger.warn({ key: "server.user", why: "two words" }, "config: ignored");
    expect(plain.written).toHaveLength(2);
    expect(plain.written[0]).toMatch(CONSOLE_PREFIX);
    expect(plain.written[0]!.slice(13)).toBe('INFO  rr-tcp ready servers={"main":"127.0.0.1:7000"} workerPid=12\n');
    expect(plain.written[1]!.slice(13)).toBe('WARN  config: ignored key=server.user why="two words"\n');

    const colored = capture({ mode: "development" }, { isTTY: true });
    colored.logger.error("boom");
    expect(colored.written[0]).toMatch(ANSI);
    expect(colored.written[0]!.replace(ANSI, "").slice(13)).toBe("ERROR boom\n");
    const asked = capture({ mode: "development" }, { isTTY: false, colors: true });
    asked.logger.info("hi");
    expect(asked.written[0]).toMatch(ANSI);
  });

  it("console lines continue a message of several lines, and an error's stack, under the message", () => {
    const { logger, written } = capture({ mode: "development" });
    logger.info({ workerPid: 7 }, "Error: boom\n    at a (x.js:1:1)\n    at b (x.js:2:2)");
    const err = new Error("it broke");
    logger.error({ err }, "failed");
    const [first, second] = written.map((text) => text.split("\n"));
    expect(first![0]!.slice(13)).toBe("INFO  Error: boom workerPid=7");
    expect(first!.slice(1)).toEqual([
      "                       at a (x.js:1:1)",
      "                       at b (x.js:2:2)",
      "",
    ]);
    expect(second![0]!.slice(13)).toBe('ERROR failed err="it broke"');
    expect(second![1]).toMatch(/^ {19}\s+at /);
  });

  it("encoding overrides the mode's own: json in development, console (uncolored) in production", () => {
    const json = capture({ mode: "development", encoding: "json" }, { isTTY: true });
    json.logger.info("a");
    expect(JSON.parse(json.written[0]!)).toMatchObject({ msg: "a", level: 30 });
    const lines = capture({ mode: "production", encoding: "console" }, { isTTY: true });
    lines.logger.info("b");
    expect(lines.written[0]).toMatch(CONSOLE_PREFIX);
    expect(lines.written[0]).not.toMatch(ANSI);
    expect(lines.written[0]!.slice(13)).toBe("INFO  b\n");
  });

  it("raw: the message alone (as {msg} with encoding json); off and none: nothing", () => {
    const raw = capture({ mode: "raw" });
    raw.logger.info({ workerPid: 3 }, "just this");
    expect(raw.written).toEqual(["just this\n"]);
    const rawJson = capture({ mode: "raw", encoding: "json" });
    rawJson.logger.info({ workerPid: 3 }, "just this");
    expect(rawJson.written.map((line) => JSON.parse(line) as unknown)).toEqual([{ msg: "just this" }]);
    for (const mode of ["off", "none"]) {
      const off = capture({ mode });
      off.logger.error("nothing");
      expect(off.written).toEqual([]);
    }
  });

  it("empty mode: development for a terminal, production otherwise", () => {
    expect(logShape(logs({}), { isTTY: true })).toEqual({ mode: "development", encoding: "console", colors: true });
    expect(logShape(logs({}), { isTTY: false })).toEqual({ mode: "production", encoding: "json", colors: false });
    expect(logShape(undefined, { isTTY: false }).mode).toBe("production");
    const tty = capture({}, { isTTY: true });
    tty.logger.info("x");
    expect(tty.written[0]!.replace(ANSI, "")).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} INFO  x\n$/);
    const pipe = capture(undefined, { isTTY: false });
    pipe.logger.info("x");
    expect(JSON.parse(pipe.written[0]!)).toMatchObject({ msg: "x" });
  });

  it("the level: --log-level over logs.level over the schema's default; dpanic and panic are fatal", () => {
    expect(capture(undefined).logger.level).toBe("info");
    expect(capture({ level: "warn" }).logger.level).toBe("warn");
    expect(capture({ level: "warn" }, { levelOverride: "debug" }).logger.level).toBe("debug");
    expect(capture({ level: "dpanic" }).logger.level).toBe("fatal");
    expect(capture({ level: "panic" }).logger.level).toBe("fatal");
  });

  it("output: a file is appended to (relative to baseDir); one that cannot be opened is a config error", () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-tcp-logs-"));
    dirs.push(dir);
    writeFileSync(join(dir, "rr.log"), "before\n");
    const logger = createLogger(logs({ mode: "production", output: "rr.log" }), { baseDir: dir });
    logger.info("appended");
    const text = readFileSync(join(dir, "rr.log"), "utf8").split("\n");
    expect(text[0]).toBe("before");
    expect(JSON.parse(text[1]!)).toMatchObject({ msg: "appended" });
    expect(() => createLogger(logs({ output: join(dir, "missing", "rr.log") }))).toThrow(ConfigError);
    try {
      createLogger(logs({ output: join(dir, "missing", "rr.log") }));
    } catch (err) {
      expect((err as ConfigError).issues[0]!.path).toBe("logs.output");
    }
  });

  it("output: stderr by default, stdout when asked (a real process)", async () => {
    const script = (output: string): string =>
      `import { createLogger } from ${JSON.stringify(pathToFileURL(join(ROOT, "src", "service", "logger.ts")).href)};` +
      `createLogger({ level: "", mode: "production", encoding: "", output: ${JSON.stringify(output)} }).info("where");`;
    // Both processes at once: each is a tsx start-up, the slow part.
    const run = async (output: string) => {
      const child = spawn(process.execPath, ["--import", TSX_LOADER, "--input-type=module", "-e", script(output)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out = { stdout: "", stderr: "" };
      child.stdout.on("data", (chunk: Buffer) => (out.stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (out.stderr += chunk.toString()));
      const code = await within(new Promise((resolve) => child.once("close", resolve)), {
        timeout: 15_000,
        what: "the logging process to exit",
      });
      return { code, ...out };
    };
    const [byDefault, toStdout] = await Promise.all([run(""), run("stdout")]);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(JSON.parse(byDefault.stderr)).toMatchObject({ msg: "where" });
    expect(byDefault.stdout).toBe("");
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(JSON.parse(toStdout.stdout)).toMatchObject({ msg: "where" });
    expect(toStdout.stderr).toBe("");
  });
});
