/**
 * The config `rr-tcp serve` uses without `-c`: one server `main` on 127.0.0.1:7000 (delimiter
 * \r\n) and two echo workers (examples/echo-worker.ts, run with tsx). Paths are resolved from the
 * package root, which is also the workers' cwd (so `--import tsx` finds the package's tsx), so it
 * works from any directory in a checkout. (An install from the registry ships neither examples/
 * nor tsx: there, pass `-c`.)
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig, type LoadedConfig } from "./load.js";

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

/** The embedded default config, as its YAML data. */
export function defaultConfigData(root: string = packageRoot()): Record<string, unknown> {
  return {
    version: "3",
    server: {
      command: [process.execPath, "--import", "tsx", join(root, "examples", "echo-worker.ts")],
      relay: "pipes",
    },
    tcp: {
      servers: { main: { addr: "127.0.0.1:7000", delimiter: "\r\n" } },
      pool: { num_workers: 2 },
    },
  };
}

/** The embedded default config, loaded (workers run in the package root). */
export function loadDefaultConfig(): LoadedConfig {
  const root = packageRoot();
  return resolveConfig(defaultConfigData(root), { baseDir: root, file: "(built-in default config)", env: {} });
}
