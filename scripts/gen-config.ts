/**
 * Writes, from the descriptors of proto/rr/tcp/v1/options.proto and the (spec) option each field
 * carries (option_spec.proto), the three things that describe the config:
 *
 *   gen/ts/rr/tcp/v1/option_specs.ts   every key's type, default, unit, range and comment, which
 *                                      src/config reads to apply defaults and check values
 *   docs/config.md                     the config reference, a table per section
 *   schema/rr-tcp.schema.json          a JSON Schema of the config for editors
 *
 *   tsx scripts/gen-config.ts [outDir]    (default: the repository; gen:check passes a temp dir)
 *
 * A field without (spec) stops the generation: every key must say its default and unit.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createFileRegistry,
  fromBinary,
  getExtension,
  hasExtension,
  ScalarType,
  type DescField,
  type DescFile,
  type DescMessage,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OPTIONS_FILE = "rr/tcp/v1/options.proto";
const SPEC_EXTENSION = "rr.tcp.v1.spec";

/** A key's facts, as option_specs.ts holds them. */
export interface KeyFacts {
  /** `string`, `bool`, `uint32`, `uint64`, `duration`, `enum`, `message`, `map`, `list`. */
  kind: string;
  /** For an enum: its YAML names and their numbers, in schema order. */
  enumValues?: Record<string, number>;
  message?: string;
  default: string;
  unit: "" | "bytes" | "megabytes" | "duration" | "count";
  min?: string;
  max?: string;
  allowed?: string[];
  origin: "roadrunner" | "rr-tcp" | "compat";
  required: boolean;
  timer: boolean;
  /** The key is `optional` in the schema: an explicit zero is kept, only an absent key takes the default. */
  presence?: true;
  comment: string;
}

const UNITS = ["", "bytes", "megabytes", "duration", "count"] as const;
const ORIGINS = ["roadrunner", "rr-tcp", "compat"] as const;

interface SpecValue {
  default: string;
  unit: number;
  min: string;
  max: string;
  allowed: string[];
  origin: number;
  required: boolean;
  timer: boolean;
}

/** The descriptors of proto/, with source info (for comments), built by buf. */
function loadFile(): DescFile {
  const image = execFileSync(
    "npx",
    ["--no-install", "buf", "build", "--as-file-descriptor-set", "-o", "-#format=binpb"],
    {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, image));
  const file = registry.getFile(OPTIONS_FILE);
  if (!file) throw new Error(`gen-config: ${OPTIONS_FILE} is not in the image`);
  return file;
}

/** The leading comment of the element at `path` in `file`'s source info. */
function commentAt(file: DescFile, path: number[]): string {
  const location = file.proto.sourceCodeInfo?.location.find(
    (l) => l.path.length === path.length && l.path.every((p, i) => p === path[i]),
  );
  return (location?.leadingComments ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}

function yamlName(member: string, prefix: string): string {
  return member.slice(prefix.length).toLowerCase();
}

function kindOf(field: DescField): Pick<KeyFacts, "kind" | "enumValues" | "message"> {
  switch (field.fieldKind) {
    case "scalar":
      if (field.scalar === ScalarType.STRING) return { kind: "string" };
      if (field.scalar === ScalarType.BOOL) return { kind: "bool" };
      if (field.scalar === ScalarType.UINT32) return { kind: "uint32" };
      if (field.scalar === ScalarType.UINT64) return { kind: "uint64" };
      throw new Error(
        `gen-config: ${field.parent.name}.${field.name}: scalar type ${ScalarType[field.scalar]} has no YAML form here`,
      );
    case "enum": {
      const prefix = field.enum.values[0]!.name.replace(/UNSPECIFIED$/, "");
      const values = field.enum.values.filter((v) => v.number > 0);
      return { kind: "enum", enumValues: Object.fromEntries(values.map((v) => [yamlName(v.name, prefix), v.number])) };
    }
    case "message":
      if (field.message.typeName === "google.protobuf.Duration") return { kind: "duration" };
      return { kind: "message", message: field.message.name };
    case "map":
      if (field.mapKind === "message") return { kind: "map", message: field.message.name };
      return { kind: "map" };
    case "list":
      return { kind: "list" };
  }
}

/** Every options message, by name, each key in field order. */
export function collectSpecs(file: DescFile): Record<string, Record<string, KeyFacts>> {
  const registryExt = file.extensions.find((e) => e.typeName === SPEC_EXTENSION);
  const ext = registryExt ?? findExtension(file);
  const out: Record<string, Record<string, KeyFacts>> = {};
  file.messages.forEach((message: DescMessage, m) => {
    const keys: Record<string, KeyFacts> = {};
    message.fields.forEach((field, f) => {
      const options = field.proto.options;
      if (!options || !hasExtension(options, ext)) {
        throw new Error(
          `gen-config: ${message.name}.${field.name} has no (spec) option: every key says its default and unit`,
        );
      }
      const spec = getExtension(options, ext) as unknown as SpecValue;
      const facts: KeyFacts = {
        ...kindOf(field),
        default: spec.default,
        unit: UNITS[spec.unit] ?? "",
        origin: ORIGINS[spec.origin] ?? "roadrunner",
        required: spec.required,
        timer: spec.timer,
        comment: commentAt(file, [4, m, 2, f]),
      };
      if (spec.min !== "") facts.min = spec.min;
      if (spec.max !== "") facts.max = spec.max;
      if (spec.allowed.length > 0) facts.allowed = [...spec.allowed];
      if (field.proto.proto3Optional) facts.presence = true;
      keys[field.name] = facts;
    });
    out[message.name] = keys;
  });
  return out;
}

function findExtension(file: DescFile): Parameters<typeof getExtension>[1] {
  for (const dep of file.dependencies) {
    const ext = dep.extensions.find((e) => e.typeName === SPEC_EXTENSION);
    if (ext) return ext;
  }
  throw new Error(`gen-config: the extension ${SPEC_EXTENSION} is not imported by ${OPTIONS_FILE}`);
}

// ---- option_specs.ts ----

function specsModule(specs: Record<string, Record<string, KeyFacts>>): string {
  // The @generated mark is added by gen-stamp.ts, as for every file of gen/ts.
  return `// Written by scripts/gen-config.ts from the descriptors of proto/rr/tcp/v1/options.proto.

/** One config key's facts, from its (spec) option and its descriptor. */
export interface KeyFacts {
  /** \`string\`, \`bool\`, \`uint32\`, \`uint64\`, \`duration\`, \`enum\`, \`message\`, \`map\`, \`list\`. */
  readonly kind: string;
  /** For an enum: its YAML names and their numbers, in schema order. */
  readonly enumValues?: Readonly<Record<string, number>>;
  /** For a section or a map of sections: the message's name. */
  readonly message?: string;
  /** The default as YAML writes it; "{}" for a section created when absent; "" for none. */
  readonly default: string;
  readonly unit: "" | "bytes" | "megabytes" | "duration" | "count";
  readonly min?: string;
  readonly max?: string;
  readonly allowed?: readonly string[];
  readonly origin: "roadrunner" | "rr-tcp" | "compat";
  readonly required: boolean;
  /** The value becomes a Node timer (at most 2^31-1 ms). */
  readonly timer: boolean;
  /** The key is \`optional\` in the schema: an explicit zero is kept, only an absent key takes the default. */
  readonly presence?: true;
  /** The field's comment in options.proto. */
  readonly comment: string;
}

/** Every options message of rr.tcp.v1, by name; each key in field order. */
export const OPTION_SPECS: Readonly<Record<string, Readonly<Record<string, KeyFacts>>>> = ${JSON.stringify(specs, null, 2)};
`;
}

// ---- docs/config.md ----

/** The sections of a config file, each with its message and its path. */
function sections(specs: Record<string, Record<string, KeyFacts>>): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const walk = (message: string, path: string): void => {
    out.push({ path, message });
    for (const [key, facts] of Object.entries(specs[message] ?? {})) {
      if (facts.kind === "message" && facts.message) walk(facts.message, path ? `${path}.${key}` : key);
      if (facts.kind === "map" && facts.message) walk(facts.message, `${path ? `${path}.` : ""}${key}.<name>`);
    }
  };
  walk("Config", "");
  return out;
}

function typeText(facts: KeyFacts): string {
  switch (facts.kind) {
    case "enum":
      return Object.keys(facts.enumValues!)
        .map((n) => `\`${n}\``)
        .join(" \\| ");
    case "message":
      return "section";
    case "map":
      return facts.message ? "map of sections" : "map";
    case "list":
      return "string or list";
    default:
      return facts.kind;
  }
}

function rangeText(facts: KeyFacts): string {
  if (facts.allowed) return facts.allowed.map((a) => `\`${a}\``).join(", ");
  if (facts.min && facts.max) return `${facts.min}..${facts.max}`;
  if (facts.min) return `>= ${facts.min}`;
  if (facts.max) return `<= ${facts.max}`;
  return "";
}

function defaultText(facts: KeyFacts): string {
  if (facts.default === "") return facts.required ? "required" : "";
  if (facts.default === "{}") return "created when absent";
  if (facts.kind === "list") return `\`${facts.default}\``;
  return `\`${JSON.stringify(facts.default).slice(1, -1)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function configDoc(specs: Record<string, Record<string, KeyFacts>>): string {
  const lines = [
    "# Configuration reference",
    "",
    "<!-- @generated by `npm run gen` (scripts/gen-config.ts) from proto/rr/tcp/v1/options.proto. Do not edit. -->",
    "",
    "rr-tcp reads RoadRunner's `.rr.yaml`. Every key below, its type, unit, default and range come",
    "from the `(spec)` option of its field in `proto/rr/tcp/v1/options.proto`; the loader applies the",
    "same defaults and checks the same ranges. Origin: `roadrunner` keys mean what they mean in",
    "RoadRunner, `rr-tcp` keys are rr-tcp's own, `compat` keys are accepted for RoadRunner configs and",
    "not used. Sizes are bytes unless the unit says megabytes; durations are Go durations (`60s`,",
    "`1m30s`, `250ms`; a bare integer is nanoseconds). A JSON Schema of the same keys for editors is",
    "`schema/rr-tcp.schema.json`.",
    "",
    "## Splitting the config: `include`",
    "",
    "As in RoadRunner, the root file may name other files to read with it:",
    "",
    "```yaml",
    'version: "3"',
    "include:",
    "  - tcp.rr.yaml        # relative to this file's folder, not the working directory",
    "  - ${ENV_NAME}.rr.yaml",
    "```",
    "",
    "- `include` is a list of paths, at the top of the root file. A relative path is taken from the",
    "  root file's folder, an absolute one as it is; `${VAR}`s in a path are expanded.",
    "- The files are read in list order, each bounded as the root is (size, nesting, aliases), at",
    "  most 64 of them (`configIncludes` in src/limits.ts). Each must have the root's `version`.",
    "- Every top-level key of an included file replaces the root's key of that name **whole**: an",
    "  included `tcp:` replaces the root's whole `tcp:` section, nothing inside it is merged. A later",
    "  file wins over an earlier one.",
    "- Only the root's list is read: an `include` in an included file is not followed (a warning says so).",
    "- The merged sections are then read as if written in the root: `${VAR}`s are expanded in them,",
    "  relative worker commands and socket paths mean the same, and `-o key=value` overrides are set",
    "  after the includes, so an override wins.",
    "- An include that cannot be used (a missing file, a YAML error in it, another version, a file",
    "  that is no map) is an error naming its entry and path: `include[1]: /app/tcp.rr.yaml: ...`.",
    "- A config given as text rather than a file (`parseConfig`) has no folder for the paths: its",
    "  `include` is not read, and a warning says so.",
    "",
  ];
  for (const { path, message } of sections(specs)) {
    lines.push(`## ${path === "" ? "(top level)" : `\`${path}\``}`, "");
    lines.push(
      "| key | type | unit | default | range | origin | meaning |",
      "| --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const [key, facts] of Object.entries(specs[message]!)) {
      lines.push(
        `| \`${key}\` | ${cell(typeText(facts))} | ${facts.unit} | ${cell(defaultText(facts))} | ${cell(rangeText(facts))} | ${facts.origin} | ${cell(facts.comment)} |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

// ---- schema/rr-tcp.schema.json ----

/** A value that is `${VAR}` expanded by the loader before it is read. */
const ENV_REFERENCE = { type: "string", pattern: "\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}" };
const GO_DURATION = "^\\s*-?([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+\\s*$|^0$";

function keySchema(facts: KeyFacts): Record<string, unknown> {
  const description = facts.comment;
  const withDefault = (schema: Record<string, unknown>, value?: unknown): Record<string, unknown> =>
    value === undefined ? { description, ...schema } : { description, default: value, ...schema };
  switch (facts.kind) {
    case "string":
      return withDefault(
        facts.allowed ? { anyOf: [{ enum: facts.allowed }, ENV_REFERENCE] } : { type: "string" },
        facts.default === "" ? undefined : facts.default,
      );
    case "bool":
      return withDefault(
        { anyOf: [{ type: "boolean" }, ENV_REFERENCE] },
        facts.default === "" ? undefined : facts.default === "true",
      );
    case "uint32":
    case "uint64": {
      const number: Record<string, unknown> = {
        type: "integer",
        minimum: 0,
        maximum: facts.kind === "uint32" ? 4294967295 : Number.MAX_SAFE_INTEGER,
      };
      if (facts.allowed) number.enum = facts.allowed.map(Number);
      if (facts.max) number.maximum = Number(facts.max);
      // A zero means the default, so a minimum allows it too.
      const ranged = facts.min ? { anyOf: [{ const: 0 }, { ...number, minimum: Number(facts.min) }] } : number;
      return withDefault({ anyOf: [ranged, ENV_REFERENCE] }, facts.default === "" ? undefined : Number(facts.default));
    }
    case "duration":
      return withDefault(
        { anyOf: [{ type: "string", pattern: GO_DURATION }, { type: "integer", minimum: 0 }, ENV_REFERENCE] },
        facts.default === "" ? undefined : facts.default,
      );
    case "enum":
      return withDefault(
        { anyOf: [{ enum: Object.keys(facts.enumValues!) }, ENV_REFERENCE] },
        facts.default === "" ? undefined : facts.default,
      );
    case "list":
      return withDefault(
        { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
        facts.default === "" ? undefined : (JSON.parse(facts.default) as string[]),
      );
    case "map":
      if (facts.message) {
        return withDefault({
          type: "object",
          propertyNames: { pattern: "^[a-zA-Z0-9._-]+$" },
          additionalProperties: { $ref: `#/definitions/${facts.message}` },
        });
      }
      // server.env: a map, or a list of one-key maps.
      return withDefault({
        anyOf: [
          { type: "object", additionalProperties: { type: ["string", "number", "boolean"] } },
          {
            type: "array",
            items: {
              type: "object",
              maxProperties: 1,
              additionalProperties: { type: ["string", "number", "boolean"] },
            },
          },
        ],
      });
    case "message":
      return withDefault({ anyOf: [{ $ref: `#/definitions/${facts.message}` }, { type: "null" }] });
  }
  throw new Error(`gen-config: no JSON Schema for kind ${facts.kind}`);
}

function jsonSchema(specs: Record<string, Record<string, KeyFacts>>): string {
  const definitions: Record<string, unknown> = {};
  for (const [message, keys] of Object.entries(specs)) {
    if (message === "Config") continue;
    definitions[message] = {
      type: "object",
      // Unknown keys in rr-tcp's own sections are errors to the loader too.
      additionalProperties: false,
      required: Object.entries(keys)
        .filter(([, f]) => f.required)
        .map(([k]) => k),
      properties: Object.fromEntries(Object.entries(keys).map(([k, f]) => [k, keySchema(f)])),
    };
  }
  const top = specs.Config!;
  const schema = {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://rr-tcp.dev/schema/rr-tcp.schema.json",
    title: "rr-tcp configuration (.rr.yaml)",
    description:
      "The keys rr-tcp reads from a RoadRunner .rr.yaml. Generated by `npm run gen` from proto/rr/tcp/v1/options.proto; do not edit. Sections of other RoadRunner plugins are allowed and not described.",
    type: "object",
    // Other RoadRunner plugins' sections (http, jobs, ...) may stand beside rr-tcp's.
    additionalProperties: true,
    properties: Object.fromEntries(Object.entries(top).map(([k, f]) => [k, keySchema(f)])),
    definitions,
  };
  return JSON.stringify(schema, null, 2) + "\n";
}

/** Writes the three outputs under `outDir`. */
export function generateConfigDescriptions(outDir: string): void {
  const specs = collectSpecs(loadFile());
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    writeFileSync(join(outDir, path), text);
  };
  write("gen/ts/rr/tcp/v1/option_specs.ts", specsModule(specs));
  write("docs/config.md", configDoc(specs));
  write("schema/rr-tcp.schema.json", jsonSchema(specs));
}

/** The files this script writes, relative to the output folder. */
export const CONFIG_OUTPUTS = [
  "gen/ts/rr/tcp/v1/option_specs.ts",
  "docs/config.md",
  "schema/rr-tcp.schema.json",
] as const;

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  generateConfigDescriptions(resolve(process.argv[2] ?? ROOT));
}
