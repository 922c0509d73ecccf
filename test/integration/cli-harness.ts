/**
 * Runs the `rr-tcp` command as a child process and reads its JSON log lines as they come.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { within } from "../fixtures/eventually.js";
import { ROOT, TSX_LOADER } from "./harness.js";

export const CLI = join(ROOT, "src", "cli.ts");

export interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first JSON log line on stderr that matches. */
  log(
    predicate: (line: Record<string, unknown>) => boolean,
    what: string,
    ms?: number,
  ): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Cli[] = [];

/** SIGKILLs every CLI a test left running (call from afterEach). */
export function killRunningClis(): void {
  for (const cli of running.splice(0))
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGKILL");
}

/** Runs `node --import tsx src/cli.ts ...args` in `cwd`. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Cli {
  const child = spawn(process.execPath, ["--import", TSX_LOADER, CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk.toString();
    for (const listener of listeners) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines = () =>
    err
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const cli: Cli = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    log(predicate, what, ms = 15_000) {
      let check = (): boolean => false;
      const logged = new Promise<Record<string, unknown>>((resolve, reject) => {
        check = () => {
          const found = lines().find(predicate);
          if (found) resolve(found);
          return found !== undefined;
        };
        listeners.add(check);
        void exited.then(() => {
          if (!check()) reject(new Error(`rr-tcp exited before ${what}; stderr:\n${err}`));
        });
        check();
      });
      return within(logged, { timeout: ms, what, detail: () => `stderr:\n${err}` }).finally(() =>
        listeners.delete(check),
      );
    },
  };
  running.push(cli);
  return cli;
}

/** What a short command printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rr-tcp ...args` in `cwd` to its end. */
export async function runCliToEnd(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const cli = runCli(args, cwd, env);
  const { code } = await within(cli.exited, { timeout: 20_000, what: `rr-tcp ${args.join(" ")} to exit` });
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
