/**
 * Generates the bindings of proto/ for workers in other languages into gen/<language>, with buf
 * and the second template buf.gen.bindings.yaml; all plugins are local, so it runs offline.
 *
 *   npm run gen:bindings                          every language whose tools are installed
 *   npm run gen:bindings -- --lang go,python      only these (fails if one cannot be generated)
 *   npm run gen:bindings -- --check               regenerates the committed languages into a
 *                                                 temporary folder and fails on any difference
 *
 * Every language is committed (COMMITTED_LANGUAGES), each folder a package a user installs without
 * Node, buf or protoc: beside buf's output, the script writes the package's build file from
 * scripts/bindings/<language>/*.in (pyproject.toml, go.mod, composer.json, a Makefile for Java and
 * one for C++), with the schema version (SCHEMA_VERSION) as the package's version, and a
 * .gitignore of the package's build outputs, which the check ignores too.
 *
 * A missing tool skips the languages that need it, with the Debian package that provides it; the
 * other languages are still generated. Exit status: without --lang, non-zero only if nothing could
 * be generated; with --lang, non-zero if any language asked for could not be.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, isAbsolute, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { SCHEMA_VERSION } from "../src/protocol/schema-version.js";
import { diffTrees } from "./tree-diff.js";

/** The repository root: this script's parent folder, so the script works from any cwd. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The buf template of the bindings, relative to the repository root. */
export const BINDINGS_TEMPLATE = "buf.gen.bindings.yaml";

/**
 * The languages whose generated code is committed, and so checked by {@link checkBindings}: each
 * is a package of its own (examples/BINDINGS.md), tested by test/bindings/<language>.test.ts.
 */
export const COMMITTED_LANGUAGES: readonly string[] = ["python", "go", "php", "java", "cpp"];

/**
 * The package files of each language, beside buf's output: every `<name>.in` in
 * scripts/bindings/<language> becomes gen/<language>/<name>, with the placeholders of
 * {@link packageFileValues} replaced.
 */
export const PACKAGE_TEMPLATES = "scripts/bindings";

/**
 * What building or installing a package leaves in its folder: listed in its .gitignore, and left
 * out of the check. A pattern with a leading `/` is a top-level entry, others match an entry at
 * any depth; `*` matches within one name.
 */
export const BUILD_OUTPUTS: Readonly<Record<string, readonly string[]>> = {
  python: ["/build/", "/dist/", "*.egg-info/", "__pycache__/"],
  php: ["/vendor/", "/composer.lock"],
  java: ["/build/"],
  cpp: ["/build/"],
};

/**
 * The tool versions the committed bindings were generated with (Debian bookworm). protoc's
 * Python output differs between protoc versions, so a check on other versions can fail without
 * anything being wrong with proto/; the check names both versions when it fails.
 */
export const COMMITTED_WITH: Readonly<Record<string, string>> = {
  protoc: "libprotoc 3.21.12",
  "protoc-gen-go": "protoc-gen-go v1.28.1",
};

/** Debian packages that provide each tool, for the message when a tool is missing. */
const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  protoc: "protobuf-compiler",
  "protoc-gen-go": "protoc-gen-go",
};

/** The Go module version of google.golang.org/protobuf that Debian ships (golang-google-protobuf-dev). */
const GO_PROTOBUF_VERSION = "v1.28.1";

/** The placeholders of the package templates and their values. */
export function packageFileValues(root = REPO_ROOT): Record<string, string> {
  return {
    SCHEMA_VERSION,
    GO_MODULE: goModulePath(root),
    GO_PROTOBUF_VERSION,
  };
}

/** A .gitignore name pattern (`*` within one name) as a regular expression. */
function namePattern(name: string): RegExp {
  const escaped = name.split("*").map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, "\\$&"));
  return new RegExp(`^${escaped.join("[^/]*")}$`);
}

/** Whether `relPath` (relative to gen/<language>) is a build output of the language. */
export function isBuildOutput(language: string, relPath: string): boolean {
  const parts = relPath.split(sep).join("/").split("/");
  return (BUILD_OUTPUTS[language] ?? []).some((pattern) => {
    const re = namePattern(pattern.replace(/^\//, "").replace(/\/$/, ""));
    return pattern.startsWith("/") ? re.test(parts[0]!) : parts.some((part) => re.test(part));
  });
}

/** One plugin entry of a buf v2 template, as far as this script needs to know it. */
interface PluginEntry {
  protoc_builtin?: string;
  protoc_path?: string;
  local?: string | string[];
  out: string;
  [key: string]: unknown;
}

interface Template {
  version: string;
  managed?: { override?: { file_option?: string; value?: string }[] };
  plugins: PluginEntry[];
  [key: string]: unknown;
}

/** A tool a language needs that is not installed. */
export interface MissingTool {
  tool: string;
  /** Where it was looked for. */
  lookedFor: string;
  /** The Debian package that provides it. */
  debianPackage: string;
}

/** What {@link generateBindings} did. */
export interface GenerateResult {
  generated: string[];
  skipped: { language: string; missing: MissingTool[] }[];
}

function readTemplate(root: string): Template {
  const template = parseYaml(readFileSync(join(root, BINDINGS_TEMPLATE), "utf8")) as Template;
  if (template.version !== "v2" || !Array.isArray(template.plugins)) {
    throw new Error(`${BINDINGS_TEMPLATE}: expected a buf v2 template with plugins`);
  }
  return template;
}

/** The language of a plugin is the folder it writes to: gen/<language>. */
function languageOf(plugin: PluginEntry): string {
  const parts = plugin.out.split("/");
  if (parts.length !== 2 || parts[0] !== "gen" || !parts[1]) {
    throw new Error(`${BINDINGS_TEMPLATE}: plugin out must be gen/<language>, got ${plugin.out}`);
  }
  return parts[1];
}

/** Every language the template knows, in template order. */
export function bindingLanguages(root = REPO_ROOT): string[] {
  return [...new Set(readTemplate(root).plugins.map(languageOf))];
}

/** The Go module path of gen/go: managed mode's go_package_prefix, so it is written once. */
export function goModulePath(root = REPO_ROOT): string {
  const prefix = readTemplate(root).managed?.override?.find((o) => o.file_option === "go_package_prefix")?.value;
  if (!prefix) throw new Error(`${BINDINGS_TEMPLATE}: managed.override has no go_package_prefix`);
  return prefix;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | undefined {
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The plugin with PROTOC applied, and the tool it needs if that is not installed. */
function resolvePlugin(plugin: PluginEntry): { plugin: PluginEntry; missing?: MissingTool } {
  if (plugin.protoc_builtin !== undefined) {
    const protoc = process.env.PROTOC || plugin.protoc_path || "protoc";
    const resolved = { ...plugin, protoc_path: protoc };
    if (findOnPath(protoc)) return { plugin: resolved };
    return { plugin: resolved, missing: { tool: "protoc", lookedFor: protoc, debianPackage: DEBIAN_PACKAGES.protoc! } };
  }
  if (plugin.local !== undefined) {
    const command = Array.isArray(plugin.local) ? plugin.local[0]! : plugin.local;
    if (findOnPath(command)) return { plugin };
    const tool = command.split("/").pop()!;
    return {
      plugin,
      missing: {
        tool,
        lookedFor: isAbsolute(command) ? command : `${command} on PATH`,
        debianPackage: DEBIAN_PACKAGES[tool] ?? "(no Debian package known)",
      },
    };
  }
  throw new Error(
    `${BINDINGS_TEMPLATE}: plugin for ${plugin.out} is neither protoc_builtin nor local; only offline plugins are allowed`,
  );
}

function describeMissing(m: MissingTool): string {
  return `${m.tool} not found (${m.lookedFor}): install the Debian package ${m.debianPackage}`;
}

/**
 * Runs buf with the template reduced to the given languages' plugins, writing under `outRoot`
 * (gen/<language> inside it), then writes the files buf does not make (gen/go/go.mod, the
 * .gitignore of uncommitted languages).
 */
function runBuf(root: string, template: Template, plugins: PluginEntry[], outRoot: string): void {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-bindings-template-"));
  try {
    // A JSON file is valid YAML, and spares a second serializer.
    const path = join(dir, "buf.gen.json");
    writeFileSync(path, JSON.stringify({ ...template, plugins }));
    const result = spawnSync("npx", ["--no-install", "buf", "generate", "--template", path, "--output", outRoot], {
      cwd: root,
      encoding: "utf8",
    });
    if (result.status !== 0) {
      throw new Error(
        `buf generate failed (exit ${result.status ?? result.signal}):\n${result.stderr}${result.stdout}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The package files of a language: scripts/bindings/<language>/<name>.in, filled in. */
function packageFiles(root: string, language: string): Map<string, string> {
  const files = new Map<string, string>();
  const dir = join(root, PACKAGE_TEMPLATES, language);
  if (!existsSync(dir)) return files;
  const values = packageFileValues(root);
  for (const entry of readdirSync(dir).sort()) {
    if (!entry.endsWith(".in")) continue;
    const text = readFileSync(join(dir, entry), "utf8").replace(/@([A-Z_]+)@/g, (whole, key: string) => {
      const value = values[key];
      if (value === undefined)
        throw new Error(`${PACKAGE_TEMPLATES}/${language}/${entry}: unknown placeholder ${whole}`);
      return value;
    });
    files.set(entry.slice(0, -".in".length), text);
  }
  return files;
}

function writeExtras(root: string, languages: string[], outRoot: string): void {
  for (const language of languages) {
    const dir = join(outRoot, "gen", language);
    mkdirSync(dir, { recursive: true });
    // Written after buf, whose clean removes the folder before each run.
    for (const [name, text] of packageFiles(root, language)) writeFileSync(join(dir, name), text);
    const outputs = BUILD_OUTPUTS[language] ?? [];
    if (COMMITTED_LANGUAGES.includes(language) && outputs.length > 0) {
      writeFileSync(
        join(dir, ".gitignore"),
        `# What building or installing this package leaves here (examples/BINDINGS.md); generated by\n` +
          `# \`npm run gen:bindings\`, whose --check ignores these paths too.\n${outputs.join("\n")}\n`,
      );
    }
    if (!COMMITTED_LANGUAGES.includes(language)) {
      writeFileSync(
        join(dir, ".gitignore"),
        `# Generated on demand by \`npm run gen:bindings\`; not committed (see examples/BINDINGS.md).\n*\n`,
      );
    }
  }
}

/**
 * Generates the bindings of `languages` (default: every language in the template) into
 * `outRoot`/gen/<language> (default: the repository). Languages whose tools are missing are
 * skipped and reported; the others are generated.
 *
 * @throws Error for an unknown language or when buf fails.
 */
export function generateBindings(
  opts: { languages?: readonly string[]; outRoot?: string; root?: string } = {},
): GenerateResult {
  const root = opts.root ?? REPO_ROOT;
  const template = readTemplate(root);
  const known = bindingLanguages(root);
  const languages = opts.languages ?? known;
  const unknown = languages.filter((l) => !known.includes(l));
  if (unknown.length > 0)
    throw new Error(`unknown language(s) ${unknown.join(", ")}; ${BINDINGS_TEMPLATE} has ${known.join(", ")}`);

  const result: GenerateResult = { generated: [], skipped: [] };
  const plugins: PluginEntry[] = [];
  for (const language of known.filter((l) => languages.includes(l))) {
    const resolved = template.plugins.filter((p) => languageOf(p) === language).map(resolvePlugin);
    const missing = resolved.flatMap((r) => (r.missing ? [r.missing] : []));
    // Tools are per plugin, but a language is all or nothing: python without its .pyi (or the
    // reverse) would leave a half-updated folder.
    const unique = [...new Map(missing.map((m) => [m.tool, m])).values()];
    if (unique.length > 0) result.skipped.push({ language, missing: unique });
    else {
      plugins.push(...resolved.map((r) => r.plugin));
      result.generated.push(language);
    }
  }
  if (plugins.length > 0) {
    const outRoot = opts.outRoot ?? root;
    runBuf(root, template, plugins, outRoot);
    writeExtras(root, result.generated, outRoot);
  }
  return result;
}

function toolVersion(command: string): string {
  try {
    return execFileSync(command, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return "not installed";
  }
}

/** What {@link checkBindings} found. */
export interface CheckResult {
  ok: boolean;
  /** One line per problem: a missing tool, or a file that differs, is missing or is extra. */
  problems: string[];
  /** The local tool versions next to the ones the committed files were made with, when not ok. */
  hint?: string;
}

/**
 * Regenerates the committed languages into a temporary folder and compares them with the
 * committed files, byte for byte, leaving out build outputs ({@link BUILD_OUTPUTS}). Missing tools
 * fail the check: it could not verify what it is asked to.
 */
export function checkBindings(opts: { root?: string } = {}): CheckResult {
  const root = opts.root ?? REPO_ROOT;
  const out = mkdtempSync(join(tmpdir(), "rr-tcp-bindings-check-"));
  try {
    const result = generateBindings({ languages: COMMITTED_LANGUAGES, outRoot: out, root });
    const problems = result.skipped.flatMap((s) =>
      s.missing.map((m) => `cannot check gen/${s.language}: ${describeMissing(m)}`),
    );
    for (const language of result.generated)
      problems.push(
        ...diffTrees(join(root, "gen", language), join(out, "gen", language), (path) =>
          isBuildOutput(language, path),
        ).map((p) => p.replace(root + "/", "")),
      );
    if (problems.length === 0) return { ok: true, problems };
    if (result.generated.length === 0) return { ok: false, problems };
    const protoc = process.env.PROTOC || "/usr/bin/protoc";
    const hint =
      `committed with ${COMMITTED_WITH.protoc} and ${COMMITTED_WITH["protoc-gen-go"]}; ` +
      `here: ${toolVersion(protoc)} (${protoc}) and ${toolVersion("protoc-gen-go")}. ` +
      `If the versions match, run \`npm run gen:bindings\` and commit ${COMMITTED_LANGUAGES.map((l) => `gen/${l}`).join(", ")}.`;
    return { ok: false, problems, hint };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): { languages?: string[]; check: boolean; help: boolean } {
  const args = { check: false, help: false } as { languages?: string[]; check: boolean; help: boolean };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--check") args.check = true;
    else if (arg === "--help" || arg === "-h") args.help = true;
    else if (arg === "--lang" || arg.startsWith("--lang=")) {
      const value = arg === "--lang" ? argv[++i] : arg.slice("--lang=".length);
      if (!value) throw new Error("--lang needs a comma-separated list, e.g. --lang go,python");
      args.languages = value
        .split(",")
        .map((l) => l.trim())
        .filter(Boolean);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

function main(argv: string[]): number {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (err) {
    console.error(`gen:bindings: ${(err as Error).message}`);
    return 2;
  }
  if (args.help) {
    console.log(`usage: npm run gen:bindings [-- --lang ${bindingLanguages().join(",")}] [-- --check]`);
    return 0;
  }
  if (args.check) {
    const result = checkBindings();
    if (result.ok) {
      console.log(`gen:bindings --check: ${COMMITTED_LANGUAGES.map((l) => `gen/${l}`).join(", ")} match proto/`);
      return 0;
    }
    console.error(
      `gen:bindings --check: failed:\n  ${result.problems.join("\n  ")}${result.hint ? "\n" + result.hint : ""}`,
    );
    return 1;
  }
  const result = generateBindings({ languages: args.languages });
  for (const language of result.generated)
    console.log(
      `gen:bindings: gen/${language}${COMMITTED_LANGUAGES.includes(language) ? " (committed)" : " (not committed)"}`,
    );
  for (const { language, missing } of result.skipped) {
    console.error(`gen:bindings: skipped gen/${language}: ${missing.map(describeMissing).join("; ")}`);
  }
  if (result.generated.length === 0) return 1;
  return args.languages !== undefined && result.skipped.length > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`gen:bindings: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
