/** Runs the load generator in its own process and returns what it measured. */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { LoadResult, LoadSpec } from "./load-generator.js";

const generator = new URL("./load-generator.ts", import.meta.url).pathname;

/** A load whose timed window is over but which keeps running, for a traced phase. */
export interface HeldLoad {
  /** Resolves once `n` more replies have arrived. */
  count(n: number): Promise<void>;
  /** The number of replies since the load started. */
  mark(): Promise<number>;
  /** Ends the load and the process. */
  stop(): Promise<void>;
}

/** Runs a load; with `spec.hold`, also returns the still running load. */
export function runLoad(spec: LoadSpec): Promise<{ result: LoadResult; held?: HeldLoad }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", generator, "load", JSON.stringify(spec)], {
      stdio: [spec.hold ? "pipe" : "ignore", "pipe", "inherit"],
    });
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    const replies: ((line: string) => void)[] = [];
    let result: LoadResult | undefined;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!result) {
        result = JSON.parse(line) as LoadResult;
        const held: HeldLoad | undefined = spec.hold
          ? {
              count: (n) =>
                new Promise<void>((done) => {
                  replies.push(() => done());
                  child.stdin!.write(`count ${n}\n`);
                }),
              mark: () =>
                new Promise<number>((done) => {
                  replies.push((line) => done((JSON.parse(line) as { total: number }).total));
                  child.stdin!.write("mark\n");
                }),
              stop: async () => {
                child.stdin!.end();
                await exited;
              },
            }
          : undefined;
        resolve({ result, held });
      } else {
        replies.shift()?.(line);
      }
    });
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

/** Opens `connections` idle connections from another process; resolves once all are open. */
export function holdIdleConnections(
  host: string,
  port: number,
  connections: number,
): Promise<{ release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const spec: LoadSpec = { host, port, connections, messageBytes: 0, warmupMs: 0, durationMs: 0 };
    const child = spawn(process.execPath, ["--import", "tsx", generator, "idle", JSON.stringify(spec)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdout.once("data", () =>
      resolve({
        release: () =>
          new Promise<void>((done) => {
            child.once("exit", () => done());
            child.stdin.end();
          }),
      }),
    );
    child.once("exit", (code) => code !== 0 && reject(new Error(`idle connection holder exited with ${code}`)));
  });
}
