/**
 * The server's logger, from the config's `logs` section as RoadRunner reads it: `mode`
 * (development: readable, colored lines; production: JSON lines; raw: the message only; off or
 * none: nothing), `encoding` (console or json, over the mode's own), `level` and `output`
 * (stderr, stdout or a file, appended to). An empty mode is development when the output is a
 * terminal and production otherwise: RoadRunner's development default is wrong for a log
 * collector, and JSON lines are wrong for a person at a terminal.
 *
 * Every record goes through pino as JSON; console and raw lines are made from that JSON
 * (./log-format.ts). Writes are synchronous, so lines written just before process.exit() are not
 * lost.
 */
import { openSync } from "node:fs";
import { resolve } from "node:path";
import pino, { type DestinationStream, type Logger } from "pino";
import type { LogsOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { ConfigError } from "../config/index.js";
import { keyFacts } from "../options/index.js";
import { formatConsoleLine, formatRawJsonLine, formatRawLine, type LogRecord } from "./log-format.js";

/** Options of {@link createLogger} that do not come from the config. */
export interface CreateLoggerOptions {
  /** `--log-level`: wins over `logs.level`. */
  readonly levelOverride?: string | undefined;
  /** Whether the output is a terminal; default: asked of stderr or stdout, false for a file or `stream`. */
  readonly isTTY?: boolean | undefined;
  /** Colors in development's console lines; default: when the output is a terminal. */
  readonly colors?: boolean | undefined;
  /** Where the lines go instead of `logs.output` (an embedding program, a test). */
  readonly stream?: DestinationStream | undefined;
  /** The directory a relative `logs.output` file is in (the working directory); default the cwd. */
  readonly baseDir?: string | undefined;
}

/** What the log looks like, once the config and the output are known. */
export interface LogShape {
  /** `off` also stands for `none`. */
  readonly mode: "development" | "production" | "raw" | "off";
  readonly encoding: "console" | "json";
  readonly colors: boolean;
}

/** The schema's default of a `logs` key. */
function logsDefault(key: string): string {
  return keyFacts("LogsOptions", key).default;
}

/** The shape `logs` gives a log written to an output that is (or is not) a terminal. */
export function logShape(
  logs: LogsOptions | undefined,
  output: { readonly isTTY: boolean; readonly colors?: boolean | undefined },
): LogShape {
  const configured = logs?.mode || (output.isTTY ? "development" : "production");
  const mode = configured === "none" ? "off" : (configured as LogShape["mode"]);
  const encoding = (logs?.encoding || (mode === "production" ? "json" : "console")) as LogShape["encoding"];
  // Only development colors its lines, as in RoadRunner; and only for a terminal unless asked.
  const colors = mode === "development" && encoding === "console" && (output.colors ?? output.isTTY);
  return { mode, encoding, colors };
}

/**
 * The logger `logs` describes. dpanic and panic (zap's levels) log at pino's fatal.
 * @throws ConfigError (key logs.output) when the output file cannot be opened for appending.
 */
export function createLogger(logs: LogsOptions | undefined, options: CreateLoggerOptions = {}): Logger {
  const output = logs?.output || logsDefault("output");
  const isTTY = options.isTTY ?? (options.stream ? false : terminal(output));
  const shape = logShape(logs, { isTTY, colors: options.colors });
  if (shape.mode === "off") return pino({ enabled: false });
  const level = options.levelOverride || logs?.level || logsDefault("level");
  const destination = options.stream ?? open(output, options.baseDir);
  // errWithCause nests an error's cause instead of appending its message: rr-tcp's messages
  // already quote their cause, and pino's default serializer would repeat it once per level.
  return pino(
    {
      level: level === "dpanic" || level === "panic" ? "fatal" : level,
      base: { pid: process.pid },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    linesFor(shape, destination),
  );
}

/** pino's JSON lines as they are, or turned into the shape's lines. */
function linesFor(shape: LogShape, destination: DestinationStream): DestinationStream {
  if (shape.mode !== "raw" && shape.encoding === "json") return destination;
  const format =
    shape.mode === "raw"
      ? shape.encoding === "json"
        ? formatRawJsonLine
        : formatRawLine
      : (record: LogRecord) => formatConsoleLine(record, { colors: shape.colors });
  return { write: (line: string) => destination.write(format(JSON.parse(line) as LogRecord)) };
}

function terminal(output: string): boolean {
  if (output === "stderr") return process.stderr.isTTY === true;
  if (output === "stdout") return process.stdout.isTTY === true;
  return false;
}

/** stderr, stdout, or the file (created if missing, appended to), written synchronously. */
function open(output: string, baseDir: string | undefined): DestinationStream {
  if (output === "stderr") return pino.destination({ dest: 2, sync: true });
  if (output === "stdout") return pino.destination({ dest: 1, sync: true });
  const file = resolve(baseDir ?? process.cwd(), output);
  let fd: number;
  try {
    fd = openSync(file, "a");
  } catch (err) {
    throw new ConfigError([
      { path: "logs.output", message: `cannot open ${file} to append to: ${(err as Error).message}` },
    ]);
  }
  return pino.destination({ dest: fd, sync: true });
}
