/**
 * Loading a RoadRunner-style `.rr.yaml` into the generated `Config`: YAML parse, the files its
 * `include` names, `${VAR}` expansion, decoding along the schema, RoadRunner's defaults, and the
 * checks that need more than one key. Every problem found is reported at once in one ConfigError.
 *
 * Relative paths: worker commands and unix socket paths in a config file are relative to the
 * config file's directory (`baseDir`), the way RoadRunner runs from the directory holding its
 * `.rr.yaml`. rr-tcp starts workers with that directory as their cwd. A section from an included
 * file (./include.ts) is read as if written in the root file, so its paths mean the same.
 */
import { open } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { ClientAuth, type Config } from "../../gen/ts/rr/tcp/v1/options.js";
import { describeLimit, LIMITS } from "../limits.js";
import {
  AddressError,
  formatListenAddress,
  parseListenAddress,
  parseTrustedSources,
  parseRelayAddress,
  type ListenAddress,
} from "../net/index.js";
import { decodeMessage, show, type DecodeContext } from "./decode.js";
import { applyDefaults, workerCommand } from "./defaults.js";
import { ConfigError, ConfigFileError, type ConfigIssue } from "./errors.js";
import type { EnvLookup } from "./expand-env.js";
import { applyIncludes, type Included } from "./include.js";
import { applyOverrides, type Override } from "./overrides.js";
import { CONFIG_SPEC } from "./schema.js";
import { processShareIssues } from "./process-shares.js";

/** Options of the loaders. */
export interface LoadOptions {
  /** Variables for `${VAR}`; default `process.env`. */
  env?: EnvLookup;
  /** Replaces `tcp.pool.num_workers: 0`; default the machine's CPU count. */
  cpuCount?: number;
  /** The directory relative paths are resolved against; default the file's directory, else the cwd. */
  baseDir?: string;
  /** The file name used in messages. */
  file?: string;
  /** `-o key=value` overrides, set in the data before it is decoded (src/config/overrides.ts). */
  overrides?: readonly Override[];
}

/** A loaded, defaulted and checked config. */
export interface LoadedConfig {
  readonly config: Config;
  /** Keys that were ignored or are accepted for compatibility only. */
  readonly warnings: readonly ConfigIssue[];
  /** The file it came from, if any. */
  readonly file?: string;
  /** Directory for relative worker commands and socket paths (absolute). */
  readonly baseDir: string;
}

/**
 * Reads and loads a config file, with the files its `include` names (./include.ts); `-o`
 * overrides are set after them, so an override wins over an included key as over the root's.
 * @throws ConfigFileError, ConfigError
 */
export async function loadConfigFile(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const { data, warnings } = await readConfigFileData(file, options.env);
  const loaded = resolveConfig(data, { baseDir: dirname(resolve(file)), file, ...options });
  return warnings.length === 0 ? loaded : { ...loaded, warnings: [...warnings, ...loaded.warnings] };
}

/**
 * A config file's data with its included files merged in, nothing decoded yet: what
 * loadConfigFile decodes, for the commands that read a key or two of the file themselves.
 * @param env variables for `${VAR}` in the include paths; default `process.env`
 * @throws ConfigFileError (the root file), ConfigError
 */
export async function readConfigFileData(file: string, env?: EnvLookup): Promise<Included> {
  const read = async (path: string): Promise<unknown> => parseConfigData(await readConfigText(path), path);
  return applyIncludes(await read(file), file, { env: env ?? process.env, read });
}

/**
 * A config file's text, at most {@link LIMITS.configFile} bytes: a larger file (a log, a device,
 * a mistake) is refused after reading one byte past the limit, never read whole.
 * @throws ConfigFileError
 */
export async function readConfigText(file: string): Promise<string> {
  const limit = LIMITS.configFile;
  let bytes: Buffer;
  try {
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(limit.value + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length === buffer.length) break;
      }
      bytes = buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new ConfigFileError(file, err as Error);
  }
  if (bytes.length > limit.value)
    throw new ConfigFileError(file, new Error(`the file is larger than ${describeLimit(limit)}, ${limit.what}`));
  return bytes.toString("utf8");
}

/**
 * YAML text -> its data (merge keys `<<:` applied, aliases expanded), nothing decoded yet. The
 * text, its aliases and its nesting are bounded (src/limits.ts), so hostile YAML is a
 * ConfigError too: the `yaml` package refuses an alias bomb by throwing (a ReferenceError from
 * `toJS`, past maxAliasCount), and a parser deep enough in brackets runs out of stack.
 * @throws ConfigError for a syntax error (the first one, with its line), an empty file, or a limit
 */
export function parseConfigData(text: string, file?: string): unknown {
  const fileError = (message: string): ConfigError => new ConfigError([{ path: "(file)", message }], file);
  // Characters, not bytes: a UTF-16 length at most the UTF-8 one, so this never refuses a file the read took.
  if (text.length > LIMITS.configFile.value)
    throw fileError(`the text is larger than ${describeLimit(LIMITS.configFile)}, ${LIMITS.configFile.what}`);
  let doc: ReturnType<typeof parseDocument>;
  let data: unknown;
  try {
    doc = parseDocument(text, { merge: true, prettyErrors: true });
    if (doc.errors.length === 0) data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // Not a syntax error: the yaml package gave up on the data (aliases, stack). Say which, once.
    throw fileError(`YAML: cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc.errors.length > 0) {
    // Later syntax errors mostly follow from the first: report that one, with its line.
    const first = doc.errors[0]!.message.split("\n")[0]!.replace(/:$/, "");
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more after it)` : "";
    throw new ConfigError([{ path: "(file)", message: `YAML syntax: ${first}${more}` }], file);
  }
  if (data === null || data === undefined) throw fileError("empty configuration");
  if (depthOf(data, LIMITS.configDepth.value) > LIMITS.configDepth.value)
    throw fileError(`the data is nested deeper than ${describeLimit(LIMITS.configDepth)}, ${LIMITS.configDepth.what}`);
  return data;
}

/**
 * How deeply `value`'s maps and lists nest, counted no further than `limit + 1`: the decoder walks
 * data recursively, so data deeper than the schema could ever be is refused before it is walked.
 * Iterative, so the check itself needs no stack.
 */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Loads a config from YAML text. Text has no file its include paths would be relative to, so an
 * `include` in it is not read (a warning says so); loadConfigFile reads it. @throws ConfigError
 */
export function parseConfig(text: string, options: LoadOptions = {}): LoadedConfig {
  return resolveConfig(parseConfigData(text, options.file), options);
}

/** Loads a config from already-parsed data (the object form of the YAML). @throws ConfigError */
export function resolveConfig(data: unknown, options: LoadOptions = {}): LoadedConfig {
  if (options.overrides?.length) data = applyOverrides(data, options.overrides);
  // decodeMessage takes null for an absent section; for the whole file it is no config at all.
  if (data === null || data === undefined)
    throw new ConfigError([{ path: "(file)", message: "empty configuration" }], options.file);
  const ctx: DecodeContext = { env: options.env ?? process.env, errors: [], warnings: [], unset: new Map() };
  const decoded = decodeMessage(CONFIG_SPEC, data, "", ctx) as Config | undefined;
  if (decoded) check(decoded, ctx);
  if (ctx.errors.length > 0 || !decoded)
    throw new ConfigError(
      ctx.errors.map((issue) => withUnsetVariables(issue, ctx.unset)),
      options.file,
    );
  const config = applyDefaults(decoded, options.cpuCount ?? availableParallelism());
  // Known only with the defaults in: num_workers 0 and processes 0 are both the CPU count.
  const shares = processShareIssues(config);
  if (shares.length > 0) throw new ConfigError(shares, options.file);
  return { config, warnings: ctx.warnings, file: options.file, baseDir: resolve(options.baseDir ?? process.cwd()) };
}

/** An error about a value that used `${VAR}`s that are not set says so: they are the likely cause. */
function withUnsetVariables(issue: ConfigIssue, unset: ReadonlyMap<string, string[]> | undefined): ConfigIssue {
  const names = unset?.get(issue.path);
  if (!names?.length) return issue;
  const list = names.map((name) => `\${${name}}`).join(", ");
  return {
    path: issue.path,
    message: `${issue.message}; ${list} ${names.length === 1 ? "is" : "are"} not set in the environment`,
  };
}

/**
 * rpc.listen as the RPC server parses it (relay syntax, src/control/rpc-server.ts), so an address
 * validate accepts is one serve can parse. `pipes` parses but is no socket: the RPC server's
 * ListenError says so at start, and it holds no address another key could share.
 * @throws AddressError
 */
function rpcAddress(addr: string): ListenAddress | undefined {
  const address = parseRelayAddress(addr);
  return address.kind === "pipes" ? undefined : address;
}

/** Checks that involve several keys or the absence of one. */
function check(config: Config, ctx: DecodeContext): void {
  const error = (path: string, message: string): void => void ctx.errors.push({ path, message });
  const warn = (path: string, message: string): void => void ctx.warnings.push({ path, message });
  // A key whose value was refused already has its error: "missing" on top of it would only repeat it.
  const refused = (path: string): boolean => ctx.errors.some((e) => e.path === path);

  // Listen addresses already used, and by which key.
  const taken = new Map<string, string>();
  if (!config.tcp) {
    if (!refused("tcp"))
      error("tcp", "missing (rr-tcp needs a tcp section with at least one server under tcp.servers)");
  } else if (Object.keys(config.tcp.servers).length === 0) {
    if (!refused("tcp.servers"))
      error("tcp.servers", "missing (at least one server is required, e.g. main: { addr: 127.0.0.1:7000 })");
  } else {
    for (const [name, server] of Object.entries(config.tcp.servers)) {
      const tls = server.tls;
      if (tls !== undefined) {
        if (tls.cert === "") error(`tcp.servers.${name}.tls.cert`, "missing");
        if (tls.key === "") error(`tcp.servers.${name}.tls.key`, "missing");
      }
      if (tls !== undefined && tls.client_auth === ClientAuth.REQUIRE && tls.ca === "") {
        error(
          `tcp.servers.${name}.tls.ca`,
          "missing: client_auth require needs the CA that signs the client certificates",
        );
      }
      try {
        parseTrustedSources(server.proxy_trusted);
      } catch (err) {
        if (!(err instanceof AddressError)) throw err;
        error(`tcp.servers.${name}.proxy_trusted`, err.message);
      }
      const path = `tcp.servers.${name}.addr`;
      if (server.addr.trim() === "") {
        error(path, "missing (e.g. 127.0.0.1:7000, tcp://0.0.0.0:7000, unix:///run/app.sock)");
        continue;
      }
      try {
        const address = parseListenAddress(server.addr);
        if (address.kind === "tcp" && address.port === 0) continue; // each gets its own free port
        const key = formatListenAddress(address);
        const other = taken.get(key);
        if (other !== undefined) error(path, `${show(server.addr)} is also the address of ${other}`);
        else taken.set(key, `tcp.servers.${name}`);
      } catch (err) {
        if (!(err instanceof AddressError)) throw err;
        error(path, err.message);
      }
    }
  }

  // The control API and RPC listen too: on a server's address one of them could not start.
  const others: Array<[string, string]> = [
    ["control.addr", config.control?.addr ?? ""],
    ["rpc.listen", config.rpc?.listen ?? ""],
    ["status.address", config.status?.address ?? ""],
    ["metrics.address", config.metrics?.address ?? ""],
  ];
  for (const [path, addr] of others) {
    if (addr === "") continue;
    try {
      const address = path === "rpc.listen" ? rpcAddress(addr) : parseListenAddress(addr);
      if (address === undefined || (address.kind === "tcp" && address.port === 0)) continue;
      const key = formatListenAddress(address);
      const other = taken.get(key);
      if (other !== undefined) error(path, `${show(addr)} is also the address of ${other}`);
      else taken.set(key, path);
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      error(path, err.message);
    }
  }

  if (workerCommand(config).length === 0 && !refused("server.command") && !refused("tcp.pool.command")) {
    error("server.command", 'missing (the worker command, e.g. "node worker.js"; or set tcp.pool.command)');
  }
  const relay = config.server?.relay ?? "";
  if (relay !== "" && relay !== "pipes") {
    if (!/^(tcp|unix):\/\/./.test(relay)) {
      error("server.relay", `${show(relay)} is not a relay (allowed: pipes, tcp://host:port, unix:///path.sock)`);
    } else {
      // The parser the pool uses: a relay address validate accepts is one the pool can open.
      try {
        parseRelayAddress(relay);
      } catch (err) {
        if (!(err instanceof AddressError)) throw err;
        error("server.relay", err.message);
      }
    }
  }
  // Compat keys (server.user, tcp.servers.<name>.read_buf_size, ...) are warned about as they are
  // decoded, from the schema (./compat.ts).
  if (config.version !== "" && config.version !== "3")
    warn("version", `${show(config.version)}: rr-tcp reads RoadRunner's version "3" layout`);
}
