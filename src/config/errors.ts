/** Config problems, each tied to the key path it is about. */
import { RrTcpError } from "../errors.js";

/** One problem (or warning) about one key: `tcp.servers.main.addr: missing`. */
export interface ConfigIssue {
  /** Dotted key path from the top of the file, e.g. `tcp.pool.allocate_timeout`; `(file)` for the file itself. */
  readonly path: string;
  /** What is wrong and what is allowed. */
  readonly message: string;
}

/** `path: message`, the form every config error and warning is printed in. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path}: ${issue.message}`;
}

/** The config cannot be used. `issues` lists every problem found, not only the first. */
export class ConfigError extends RrTcpError<"CONFIG_INVALID"> {
  constructor(
    readonly issues: readonly ConfigIssue[],
    /** The file the config came from, when it came from one. */
    readonly file?: string,
  ) {
    super(
      "CONFIG_INVALID",
      `${file ? `${file}: ` : ""}invalid configuration (${issues.length} ${issues.length === 1 ? "problem" : "problems"}):\n` +
        issues.map((issue) => `  ${formatIssue(issue)}`).join("\n"),
      issues.length === 1 ? { key: issues[0]!.path } : {},
    );
  }
}

/** The config file could not be read at all. */
export class ConfigFileError extends RrTcpError<"CONFIG_FILE"> {
  constructor(
    readonly file: string,
    cause: Error,
  ) {
    super("CONFIG_FILE", `${file}: cannot read the configuration: ${cause.message}`, { cause });
  }
}
