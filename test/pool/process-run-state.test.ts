/**
 * ProcessRunState against real processes in known places: blocked reading their stdin, spinning,
 * asleep elsewhere after having waited for input once, asleep without ever having done so.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ProcessRunState } from "../../src/pool/process-run-state.js";
import { eventually } from "../fixtures/eventually.js";

const PYTHON = "/usr/bin/python3";
const children: ChildProcess[] = [];
const states: ProcessRunState[] = [];

afterEach(() => {
  for (const state of states.splice(0)) state.close();
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function start(command: string, args: string[], extraPipe = false): ChildProcess {
  const child = spawn(command, args, {
    stdio: extraPipe ? ["pipe", "ignore", "inherit", "pipe"] : ["pipe", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

function watch(child: ChildProcess, inputFd?: number): ProcessRunState {
  const state = new ProcessRunState(child.pid!, { inputFd });
  states.push(state);
  return state;
}

/** The state letter of /proc/<pid>/stat, read here apart from the class under test. */
function statState(pid: number): string {
  const line = readFileSync(`/proc/${pid}/stat`, "latin1");
  return line.charAt(line.lastIndexOf(")") + 2);
}

describe.runIf(process.platform === "linux")("ProcessRunState", () => {
  it("says settled for a process blocked reading its stdin", async () => {
    const child = start("head", ["-c", "1"]);
    const state = watch(child, 0);
    await eventually(() => state.settled, { what: "head blocked in read(0) to be settled" });
  });

  it("never says settled for a process that spins, preempted or not", async () => {
    const child = start(process.execPath, ["-e", "process.stdout; for (;;) {}"]);
    const state = watch(child, 0);
    await eventually(() => statState(child.pid!) === "R", { what: "the spinner to run" });
    for (let look = 0; look < 500; look++) expect(state.settled).toBe(false);
  });

  it("once seen waiting for input, asleep elsewhere (a sleep) is not settled", async () => {
    const child = start(PYTHON, ["-c", "import os, time\nos.read(0, 1)\ntime.sleep(600)"]);
    const state = watch(child, 0);
    await eventually(() => state.settled, { what: "python blocked in read(0)" });
    child.stdin!.write("x");
    // Asleep by its stat (what the hold used to go by) and still not settled: in its sleep.
    await eventually(() => statState(child.pid!) === "S" && !state.settled, {
      what: "python asleep in time.sleep, not settled",
    });
    for (let look = 0; look < 50; look++) expect(state.settled).toBe(false);
  });

  it("a read of another descriptor than the relay's is not a wait for the next event", async () => {
    const script = "import os\nos.read(0, 1)\nos.read(3, 1)";
    const strict = start(PYTHON, ["-c", script], true);
    const loose = start(PYTHON, ["-c", script], true);
    const strictState = watch(strict, 0);
    const looseState = watch(loose);
    await eventually(() => strictState.settled && looseState.settled, { what: "both blocked in read(0)" });
    strict.stdin!.write("x");
    loose.stdin!.write("x");
    await eventually(() => statState(strict.pid!) === "S" && !strictState.settled, {
      what: "the worker told its relay is fd 0, blocked in read(3), not settled",
    });
    // Told nothing of its relay (a socket relay), any read counts as the wait.
    await eventually(() => statState(loose.pid!) === "S" && looseState.settled, {
      what: "the worker with no known relay fd, blocked in read(3), settled",
    });
  });

  it("a process never seen waiting for input is judged by sleep alone", async () => {
    const child = spawn("sleep", ["600"], { stdio: "ignore" });
    children.push(child);
    const state = watch(child, 0);
    await eventually(() => state.settled, { what: "sleep(1) asleep, settled by the stat rule" });
  });

  it("says settled once the process is gone (nothing left to write)", async () => {
    const child = start("head", ["-c", "1"]);
    const state = watch(child, 0);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    await eventually(() => state.settled, { what: "a reaped process to count as settled" });
  });
});
