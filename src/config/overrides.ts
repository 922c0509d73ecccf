/**
 * RoadRunner's `-o key=value` overrides: `-o tcp.pool.num_workers=4`, `-o
 * tcp.servers.main.addr=127.0.0.1:7100`, `-o server.env.APP_ENV=test`. The dotted path is set in
 * the YAML data before it is decoded, so an override is checked exactly like the same key in the
 * file, and a typo in it is reported the same way. Values stay text, as RoadRunner's viper keeps
 * them: the decoder reads "4" as a number and "true" as a flag where the schema says so.
 */
import { ConfigError } from "./errors.js";

/** One parsed `-o` argument. */
export interface Override {
  /** The dotted key path, split: `["tcp", "pool", "num_workers"]`. */
  readonly path: readonly string[];
  readonly value: string;
}

/** The key path of `-o` problems: the flag as it was written. */
function flag(text: string): string {
  return `-o ${text}`;
}

/**
 * Parses `-o` arguments.
 * @throws ConfigError naming each argument that is not `dotted.key=value`.
 */
export function parseOverrides(args: readonly string[]): Override[] {
  const issues: { path: string; message: string }[] = [];
  const overrides: Override[] = [];
  for (const text of args) {
    const eq = text.indexOf("=");
    const key = eq < 0 ? "" : text.slice(0, eq).trim();
    const path = key.split(".");
    if (eq < 0 || key === "" || path.some((part) => part === "")) {
      issues.push({ path: flag(text), message: "must be dotted.key=value, e.g. -o tcp.pool.num_workers=4" });
      continue;
    }
    overrides.push({ path, value: text.slice(eq + 1) });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return overrides;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Sets each override in `data` (the parsed YAML, changed in place; sections that do not exist
 * are created) and returns it.
 * @throws ConfigError when a path goes through a value that is not a map (`server.command.x`).
 */
export function applyOverrides(data: unknown, overrides: readonly Override[]): Record<string, unknown> {
  const root: Record<string, unknown> = isMap(data) ? data : {};
  const issues: { path: string; message: string }[] = [];
  for (const { path, value } of overrides) {
    let node = root;
    let blocked = "";
    for (const [index, part] of path.slice(0, -1).entries()) {
      const next = node[part];
      if (next === undefined || next === null) node[part] = {};
      else if (!isMap(next)) {
        blocked = path.slice(0, index + 1).join(".");
        break;
      }
      node = node[part] as Record<string, unknown>;
    }
    if (blocked !== "") {
      issues.push({
        path: flag(`${path.join(".")}=${value}`),
        message: `${blocked} is a value, not a section, so it has no key ${path.slice(blocked.split(".").length).join(".")}`,
      });
      continue;
    }
    node[path[path.length - 1]!] = value;
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return root;
}
