/**
 * What a key the schema does not have is told. Inside a section rr-tcp reads (server, tcp, rpc,
 * logs, status, metrics, control, at any depth) it is an error: the schema carries every key
 * RoadRunner may put there, so an unknown one is a typo that would otherwise silently leave a
 * default in place. At the top of the file, the sections of RoadRunner's other plugins are
 * ignored (one warning lists them), a key close to one of rr-tcp's sections is an error, and any
 * other key is a warning: a .rr.yaml may hold YAML anchors or tools' own sections. `include` is
 * read before decoding (./include.ts) and reaches this module only from a config with no file.
 */
import type { ConfigIssue } from "./errors.js";
import { closestKey } from "./suggest.js";

/**
 * Top-level sections of RoadRunner's other plugins, current and former (v1 had headers, static,
 * gzip, limit and health at the top; v2 websockets and broadcast), and of its container (endure).
 * rr-tcp does not run them and says so once.
 */
const ROADRUNNER_PLUGIN_SECTIONS: ReadonlySet<string> = new Set([
  "amqp",
  "beanstalk",
  "boltdb",
  "broadcast",
  "centrifuge",
  "endure",
  "fileserver",
  "googlepubsub",
  "grpc",
  "gzip",
  "headers",
  "health",
  "http",
  "jobs",
  "kafka",
  "kv",
  "limit",
  "lock",
  "memcached",
  "memory",
  "nats",
  "otel",
  "redis",
  "reload",
  "service",
  "sqs",
  "static",
  "temporal",
  "websockets",
]);

/** The error for an unknown key inside a section: the closest known key, or every known one. */
export function unknownKeyError(path: string, key: string, known: readonly string[]): ConfigIssue {
  const near = closestKey(key, known);
  return {
    path,
    message:
      near !== undefined ? `unknown key (did you mean ${near}?)` : `unknown key (known here: ${known.join(", ")})`,
  };
}

/** Sorts the unknown keys at the top of the file into errors and warnings (see the module comment). */
export function reportUnknownTopLevelKeys(
  keys: readonly string[],
  known: readonly string[],
  out: { readonly errors: ConfigIssue[]; readonly warnings: ConfigIssue[] },
): void {
  const plugins: string[] = [];
  for (const key of keys) {
    // loadConfigFile reads `include` and takes it out of the data (./include.ts). It is left only
    // in a config given as text or data, which has no file its relative paths would start from.
    if (key === "include") {
      out.warnings.push({
        path: key,
        message:
          "not read: this config was not loaded from a file, and included paths are relative to one (load it from its file, e.g. rr-tcp -c)",
      });
      continue;
    }
    if (ROADRUNNER_PLUGIN_SECTIONS.has(key.toLowerCase())) {
      plugins.push(key);
      continue;
    }
    const near = closestKey(key, known);
    if (near !== undefined) out.errors.push({ path: key, message: `unknown section (did you mean ${near}?)` });
    else out.warnings.push({ path: key, message: `unknown section, ignored (rr-tcp reads ${known.join(", ")})` });
  }
  if (plugins.length > 0)
    out.warnings.push({
      path: "(file)",
      message: `sections of other RoadRunner plugins ignored: ${plugins.join(", ")}`,
    });
}
