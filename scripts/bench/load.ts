/** Runs the load generator in its own process and returns what it measured. */
import { spawn } from "node:child_process";
import type { LoadResult, LoadSpec } from "./load-generator.js";

const generator = new URL("./load-generator.ts", import.meta.url).pathname;

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", generator, "load", JSON.stringify(spec)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!) as LoadResult);
    });
  });
}

/** Opens `connections` idle connections from another process; resolves once all are open. */
export function holdIdleConnections(host: string, port: number, connections: number): Promise<{ release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const spec: LoadSpec = { host, port, connections, messageBytes: 0, warmupMs: 0, durationMs: 0 };
    const child = spawn(process.execPath, ["--import", "tsx", generator, "idle", JSON.stringify(spec)], { stdio: ["pipe", "pipe", "inherit"] });
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
