/**
 * The config `rr-tcp serve` uses without `-c`: one server `main` on 127.0.0.1:7000 (delimiter
 * \r\n) and two echo workers. From a checkout (rr-tcp running from its TypeScript sources) the
 * worker is examples/echo-worker.ts under tsx's loader; from the built package (dist/, what the
 * published `rr-tcp` bin runs) it is the compiled dist/examples/echo-worker.js under plain node.
 * Paths are absolute, so it works from any directory; the workers run in the package root.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig, type LoadedConfig, type LoadOptions } from "./load.js";

/** The directory holding rr-tcp's package.json, found upwards from this module (src/ or dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "rr-tcp") return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("rr-tcp: cannot find the package root (package.json named rr-tcp)");
    dir = parent;
  }
}

/** The echo worker's command: compiled when rr-tcp itself runs compiled, else under tsx. */
export function echoWorkerCommand(root: string = packageRoot()): string[] {
  const compiled = join(root, "dist", "examples", "echo-worker.js");
  if (import.meta.url.endsWith(".js") && existsSync(compiled)) return [process.execPath, compiled];
  // The loader's resolved URL, not the bare name `tsx`: Node resolves `--import tsx` from the
  // worker's cwd, and the tsx CLI would start a second process whose pid is not the spawned one.
  return [process.execPath, "--import", import.meta.resolve("tsx"), join(root, "examples", "echo-worker.ts")];
}

/** The embedded default config, as its YAML data. */
export function defaultConfigData(root: string = packageRoot()): Record<string, unknown> {
  return {
    version: "3",
    server: {
      command: echoWorkerCommand(root),
      relay: "pipes",
    },
    tcp: {
      servers: { main: { addr: "127.0.0.1:7000", delimiter: "\r\n" } },
      pool: { num_workers: 2 },
    },
  };
}

/** The embedded default config, loaded (workers run in the package root), with `-o` overrides. */
export function loadDefaultConfig(options: Pick<LoadOptions, "overrides"> = {}): LoadedConfig {
  const root = packageRoot();
  return resolveConfig(defaultConfigData(root), {
    baseDir: root,
    file: "(built-in default config)",
    env: {},
    ...options,
  });
}
