/**
 * Which config a command runs with, decided as RoadRunner's `rr` decides it:
 *
 * - `-w DIR` changes the working directory first; a relative `-c` is then read from there.
 * - `-c FILE`: that file; without `-w`, the working directory becomes the file's folder, as
 *   `rr` does (so a worker command, a unix socket path or a log file relative to the config
 *   means the same thing whatever directory rr-tcp was started from).
 * - no `-c`: `./.rr.yaml` in the working directory when there is one (`rr`'s default `-c`).
 *   Only `serve` falls back to the built-in echo config when there is none, and says so.
 * - `--dotenv FILE` (or `DOTENV_PATH`) loads variables before the config's `${VAR}`s are
 *   expanded; variables already set win, as with RoadRunner's godotenv.
 * - `-o dotted.key=value`, repeatable, overrides the file (src/config/overrides.ts).
 *
 * Workers run in the working directory so chosen.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigFileError, loadConfigFile, loadDefaultConfig, type LoadedConfig } from "../config/index.js";
import { parseOverrides, type Override } from "../config/overrides.js";
import { RrTcpError } from "../errors.js";

/** RoadRunner's default config file name, looked for in the working directory. */
export const DEFAULT_CONFIG_FILE = ".rr.yaml";

/** The options every command that reads a config takes. */
export interface ConfigFlags {
  config?: string;
  workdir?: string;
  override?: string[];
  dotenv?: string;
}

/** A command-line choice that cannot be followed (a missing -w folder, an unreadable --dotenv). */
export class CliUsageError extends RrTcpError<"CLI_USAGE"> {
  constructor(message: string, options?: { key?: string; cause?: unknown }) {
    super("CLI_USAGE", message, options);
  }
}

/** What was chosen, for the start-up log. */
export interface ConfigChoice {
  readonly loaded: LoadedConfig;
  /** Why this config: "-c", "./.rr.yaml", or "built-in" when there was no file. */
  readonly source: "-c" | "./.rr.yaml" | "built-in";
}

/** The config file the flags name, after -w and --dotenv are applied; undefined when there is none. */
export interface LocatedConfig {
  /** Absolute path; undefined without -c and without ./.rr.yaml. */
  readonly file: string | undefined;
  readonly source: "-c" | "./.rr.yaml" | undefined;
  readonly overrides: Override[];
}

/**
 * Applies -w (chdir) and --dotenv (environment), parses -o, and finds the config file; changes
 * to the file's folder when -w is not given, as `rr` does.
 * @throws CliUsageError, ConfigError (a malformed -o)
 */
export function locateConfig(flags: ConfigFlags): LocatedConfig {
  if (flags.workdir !== undefined) {
    try {
      process.chdir(flags.workdir);
    } catch (err) {
      throw new CliUsageError(
        `-w ${flags.workdir}: cannot use it as the working directory: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  const dotenv = flags.dotenv ?? process.env.DOTENV_PATH;
  if (dotenv !== undefined && dotenv !== "") {
    try {
      process.loadEnvFile(dotenv);
    } catch (err) {
      throw new CliUsageError(`--dotenv ${dotenv}: cannot load it: ${(err as Error).message}`, { cause: err });
    }
  }
  const overrides = parseOverrides(flags.override ?? []);
  const named = flags.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (named === undefined) return { file: undefined, source: undefined, overrides };
  const file = resolve(named);
  if (flags.workdir === undefined && existsSync(file)) process.chdir(dirname(file));
  return { file, source: flags.config !== undefined ? "-c" : "./.rr.yaml", overrides };
}

/** The error for a command that needs a config file and has none. */
export function noConfigFile(): ConfigFileError {
  return new ConfigFileError(
    resolve(DEFAULT_CONFIG_FILE),
    new Error(`no such file (give the config with -c, or run in the folder holding ${DEFAULT_CONFIG_FILE})`),
  );
}

/**
 * Applies the flags, picks the config and loads it.
 * @param fallback what to do without -c and without ./.rr.yaml: serve the built-in config, or fail
 * @throws CliUsageError, ConfigError, ConfigFileError
 */
export async function chooseConfig(flags: ConfigFlags, fallback: "built-in" | "fail"): Promise<ConfigChoice> {
  const { file, source, overrides } = locateConfig(flags);
  if (file === undefined || source === undefined) {
    if (fallback === "fail") throw noConfigFile();
    return { loaded: loadDefaultConfig({ overrides }), source: "built-in" };
  }
  return { loaded: await loadConfigFile(file, { overrides, baseDir: process.cwd() }), source };
}
