/**
 * The SPAWN_FAILED errors of a worker that could not start: each names the command, the pid and
 * what happened, with the worker's last lines of output when it printed any, so one log line
 * explains a broken `server.command`.
 */
import { errorCode } from "../errors.js";
import { HandshakeError } from "../relay/index.js";
import { describeExit, PoolError } from "./errors.js";

// How much of a worker's text goes into an error message.
const QUOTE_LIMIT = 500;

/** The process could not be spawned at all (ENOENT, EACCES...). */
export function spawnFailure(command: readonly string[], commandText: string, err: Error | undefined): PoolError {
  const code = errorCode(err);
  const hint =
    code === "ENOENT"
      ? ` (no such file or directory; the command runs without a shell: is "${command[0]}" installed and on PATH, and does cwd exist?)`
      : code === "EACCES"
        ? ` (permission denied: is "${command[0]}" executable?)`
        : "";
  return new PoolError(
    "SPAWN_FAILED",
    `cannot start worker command "${commandText}": ${err?.message ?? "spawn failed"}${hint}`,
    { command: commandText },
    { cause: err },
  );
}

/** What is known of a worker that started but did not complete the pid handshake. */
export interface HandshakeFailure {
  commandText: string;
  pid: number;
  /** The handshake's deadline (allocate_timeout). */
  timeoutMs: number;
  /** Why the handshake failed. */
  cause: Error;
  /** How the process ended, if it ended by itself. */
  exit: { code: number | null; signal: string | null } | undefined;
  /** Its last lines of output. */
  lastOutput: readonly string[];
}

/** The process started but did not complete the pid handshake. */
export function handshakeFailure(f: HandshakeFailure): PoolError {
  const who = `worker command "${f.commandText}" (pid ${f.pid})`;
  const timedOut = f.exit === undefined && f.cause instanceof HandshakeError && f.cause.timeoutMs !== undefined;
  let message: string;
  if (f.exit !== undefined) message = `${who} ${describeExit(f.exit.code, f.exit.signal)} before the pid handshake`;
  else if (timedOut) message = `${who} did not complete the pid handshake within allocate_timeout ${f.timeoutMs} ms`;
  // The cause's own "pid handshake failed: " prefix would only repeat what this message says.
  else message = `${who} failed the pid handshake: ${f.cause.message.replace(/^pid handshake failed: /, "")}`;
  if (f.lastOutput.length > 0) message += `; its last output: ${quote(f.lastOutput.join(" | "))}`;
  return new PoolError(
    "SPAWN_FAILED",
    message,
    {
      pid: f.pid,
      command: f.commandText,
      ...(timedOut && { timeoutMs: f.timeoutMs }),
      ...(f.exit !== undefined && { exitCode: f.exit.code, signal: f.exit.signal }),
    },
    { cause: f.cause },
  );
}

/** A worker's text, JSON-quoted and bounded for a log line. */
export function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}...` : text);
}
