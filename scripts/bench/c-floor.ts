/**
 * The floor: scripts/bench/c/forwarder.c and echo-worker.c, compiled with the system's `cc -O2`
 * into a temporary directory at bench time, and the forwarder started as a target.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { waitForChildren } from "./proc.js";
import { childTarget, type RunningTarget } from "./targets.js";

const source = new URL("./c/", import.meta.url).pathname;

export interface CBuild {
  forwarder: string;
  echoWorker: string;
  remove(): void;
}

/** Compiles both programs; a string says why not (no cc, or a compile error). */
export function buildC(): CBuild | string {
  try {
    execFileSync("cc", ["--version"], { stdio: "ignore" });
  } catch {
    return "no C compiler (`cc`) on this machine";
  }
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-bench-c-"));
  try {
    for (const name of ["forwarder", "echo-worker"]) {
      execFileSync("cc", ["-O2", "-o", join(dir, name), join(source, `${name}.c`)], { stdio: "pipe" });
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `cc -O2 failed: ${stderr || String(err)}`;
  }
  return {
    forwarder: join(dir, "forwarder"),
    echoWorker: join(dir, "echo-worker"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Starts the C forwarder with `workers` C echo workers on a free loopback port. */
export async function startCForwarder(build: CBuild, workers: number): Promise<RunningTarget> {
  const child = spawn(build.forwarder, ["0", String(workers), build.echoWorker], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`C forwarder said ${JSON.stringify(line)}`));
    });
    child.once("exit", (code) => reject(new Error(`C forwarder exited with ${code}`)));
  });
  const workerPids = await waitForChildren(child.pid!, workers);
  return childTarget(child, port, workerPids);
}
