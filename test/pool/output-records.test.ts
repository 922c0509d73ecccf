/**
 * A worker's output lines become log records: what came together (one write, a burst, a stack
 * trace) is one record, what came apart is two, and no record grows past its bounds. The clock is
 * the test's where timing matters; real child processes show it on real pipes.
 */
import { type ChildProcess } from "node:child_process";
import fc from "fast-check";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { OutputLines } from "../../src/pool/output-lines.js";
import { OutputRecords, RECORD_QUIET_MS, TRACE_QUIET_MS } from "../../src/pool/output-records.js";
import { WorkerChild } from "../../src/pool/worker-child.js";
import { eventually, within } from "../fixtures/eventually.js";
import { FakeClock } from "./fake-clock.js";

function records(options: ConstructorParameters<typeof OutputRecords>[1] = {}) {
  const out: string[] = [];
  const clock = new FakeClock();
  const grouped = new OutputRecords((text) => out.push(text), { clock, ...options });
  return { out, clock, grouped };
}

describe("OutputRecords", () => {
  it("lines within the quiet window are one record, logged once the window has passed", () => {
    const { out, clock, grouped } = records();
    grouped.line("connecting");
    clock.advance(RECORD_QUIET_MS - 1);
    grouped.line("connected");
    clock.advance(RECORD_QUIET_MS - 1);
    expect(out).toEqual([]);
    clock.advance(1);
    expect(out).toEqual(["connecting\nconnected"]);
  });

  it("lines further apart than the window are two records", () => {
    const { out, clock, grouped } = records();
    grouped.line("first");
    clock.advance(RECORD_QUIET_MS + 1);
    grouped.line("second");
    clock.advance(RECORD_QUIET_MS + 1);
    expect(out).toEqual(["first", "second"]);
  });

  it("stack-trace lines keep the record open longer; an ordinary line after the window starts a new one", () => {
    const { out, clock, grouped } = records();
    grouped.line("PHP Fatal error:  Uncaught Exception: boom in /app/worker.php:3");
    clock.advance(RECORD_QUIET_MS / 2);
    grouped.line("Stack trace:");
    clock.advance(TRACE_QUIET_MS - 1);
    grouped.line("#0 {main}");
    clock.advance(TRACE_QUIET_MS - 1);
    grouped.line("  thrown in /app/worker.php on line 3");
    clock.advance(RECORD_QUIET_MS + 1);
    grouped.line("next request");
    clock.advance(TRACE_QUIET_MS);
    expect(out).toEqual([
      "PHP Fatal error:  Uncaught Exception: boom in /app/worker.php:3\nStack trace:\n#0 {main}\n  thrown in /app/worker.php on line 3",
      "next request",
    ]);
  });

  it("a worker that never pauses gets records within the bounds, every line kept in order", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: "grapheme-ascii", maxLength: 40 }).map((s) => s.replace(/\n/g, "")),
          {
            maxLength: 60,
          },
        ),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 41, max: 200 }),
        (lines, maxLines, maxBytes) => {
          const { out, grouped } = records({ maxLines, maxBytes });
          for (const line of lines) grouped.line(line);
          grouped.flush();
          expect(out.flatMap((record) => record.split("\n"))).toEqual(lines);
          for (const record of out) {
            expect(record.split("\n").length).toBeLessThanOrEqual(maxLines);
            expect(Buffer.byteLength(record)).toBeLessThanOrEqual(maxBytes);
          }
        },
      ),
    );
  });

  it("pieces of a line longer than the line limit are records of their own, never joined by a newline", () => {
    const { out, clock, grouped } = records();
    const lines = new OutputLines((line, complete) => grouped.line(line, complete), 16);
    lines.push(Buffer.from(`before\n${"x".repeat(40)}\nafter\nexactly-16-bytes\n`));
    clock.advance(RECORD_QUIET_MS + 1);
    expect(out).toEqual(["before", "x".repeat(16), "x".repeat(16), "x".repeat(8), "after\nexactly-16-bytes"]);
  });
});

describe("a worker process's stderr, as log records", () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  /** A child process under WorkerChild, and the records it logged. */
  function spawnChild(script: string, outputClock?: FakeClock) {
    const logged: Array<{ msg: string; stream: string }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    let stdout = "";
    const child = new WorkerChild({
      command: [process.execPath, "-e", script],
      env: process.env,
      stdio: ["pipe", "pipe", "pipe"],
      logStdout: false,
      logger,
      outputClock,
      onExit: () => {},
    });
    children.push(child.process);
    child.process.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    return { child, logged, stdout: () => stdout };
  }

  // The child prints an Error's stack on stdout as JSON (so the test knows it), writes it to
  // stderr, and stays alive: the record cannot come from the stream's end.
  const STACK = `const stack = new Error("boom").stack; process.stdout.write(JSON.stringify(stack) + "\\n");`;
  const STAY = "setInterval(() => {}, 1000);";

  it("an Error's stack written to stderr is one record holding the whole trace", async () => {
    const { logged, stdout } = spawnChild(`${STACK} process.stderr.write(stack + "\\n"); ${STAY}`);
    await eventually(() => stdout().includes("\n") && logged.length >= 1, { timeout: 10_000, what: "the record" });
    const stack = JSON.parse(stdout()) as string;
    expect(stack.split("\n").length).toBeGreaterThan(3);
    expect(logged).toMatchObject([{ msg: stack, stream: "stderr" }]);
  });

  it("a stack written line by line is one record too (on the test's clock)", async () => {
    const clock = new FakeClock();
    const lineByLine = `${STACK} for (const line of stack.split("\\n")) process.stderr.write(line + "\\n"); ${STAY}`;
    const { child, logged, stdout } = spawnChild(lineByLine, clock);
    await eventually(() => stdout().includes("\n"), { timeout: 10_000, what: "the child's stack" });
    const stack = JSON.parse(stdout()) as string;
    await eventually(() => child.lastOutput().at(-1) === stack.split("\n").at(-1), {
      timeout: 10_000,
      what: "the last line of the stack on stderr",
    });
    expect(logged).toEqual([]);
    clock.advance(TRACE_QUIET_MS);
    expect(logged).toMatchObject([{ msg: stack }]);
  });

  it("two writes far apart are two records", async () => {
    const clock = new FakeClock();
    const { child, logged } = spawnChild(
      `process.stderr.write("first\\n"); process.stdin.once("data", () => process.stderr.write("second\\n")); setInterval(() => {}, 1000);`,
      clock,
    );
    await eventually(() => child.lastOutput().includes("first"), { timeout: 10_000, what: "the first write" });
    clock.advance(RECORD_QUIET_MS + 1);
    expect(logged.map((r) => r.msg)).toEqual(["first"]);
    child.process.stdin!.write("go\n");
    await eventually(() => child.lastOutput().includes("second"), { timeout: 10_000, what: "the second write" });
    clock.advance(RECORD_QUIET_MS + 1);
    expect(logged.map((r) => r.msg)).toEqual(["first", "second"]);
  });

  it("what is left when the process ends is logged, and its last lines still explain a failed start", async () => {
    const { child, logged } = spawnChild(
      `process.stderr.write("fatal: no config\\nbye"); process.exit(3);`,
      new FakeClock(),
    );
    await within(child.lastWords(10_000), { timeout: 15_000, what: "the child's last words" });
    await eventually(() => logged.length === 1, { timeout: 10_000, what: "the record at the stream's end" });
    expect(logged[0]!.msg).toBe("fatal: no config\nbye");
    expect(child.lastOutput()).toEqual(["fatal: no config", "bye"]);
  });
});
