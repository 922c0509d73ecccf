/**
 * A resolved Config back in its YAML form (the keys and spellings a user writes: durations as Go
 * strings, enums by name), for `rr-tcp validate`. Loading the output again gives the same Config.
 */
import type { Duration } from "../../gen/ts/google/protobuf/duration.js";
import type { Config } from "../../gen/ts/rr/tcp/v1/options.js";
import { Document, isScalar, visit } from "yaml";
import { formatGoDuration } from "../options/duration.js";
import { CONFIG_SPEC, type MessageSpec } from "./schema.js";

/** The config as plain data in YAML key form; absent sections are left out. */
export function formatConfig(config: Config): Record<string, unknown> {
  return formatMessage(CONFIG_SPEC, config as unknown as Record<string, unknown>);
}

/** The config as YAML text; strings with control characters (delimiters) double-quoted, e.g. "\r\n". */
export function formatConfigYaml(config: Config): string {
  const doc = new Document(formatConfig(config));
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === "string" && /[\x00-\x1f\x7f]/.test(node.value))
        node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString();
}

function formatMessage(spec: MessageSpec, message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, kind] of spec.fields) {
    const value = message[key];
    if (value === undefined) continue;
    switch (kind.kind) {
      case "duration":
        out[key] = formatGoDuration(value as Duration);
        break;
      case "enum":
        out[key] = kind.names.byValue.get(value as number) ?? "";
        break;
      case "message":
        out[key] = formatMessage(kind.message, value as Record<string, unknown>);
        break;
      case "map":
        out[key] = Object.fromEntries(
          Object.entries(value as Record<string, Record<string, unknown>>).map(([name, entry]) => [
            name,
            formatMessage(kind.message, entry),
          ]),
        );
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}
