/**
 * `serve(handler)`: the whole life of a TCP worker process in one call, for the worker's entry
 * file. Bad input from the server ends the process with an error on stderr and exit code 1, never
 * a hang; a stop command or the server going away ends it cleanly.
 */
import { errorCode } from "../errors.js";
import { WorkerError } from "./errors.js";
import { TcpWorker, type Handler } from "./tcp-worker.js";
import type { RelayMode } from "./worker.js";

/** The environment variable that picks {@link ServeOptions.mode} when the code does not. */
export const MODE_ENV = "RR_TCP_WORKER_MODE";
const MODES: readonly RelayMode[] = ["blocking", "event-loop"];

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Environment to read `RR_RELAY` from; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /**
   * What to do after a fatal error has been written to stderr; by default `process.exit(1)`, so
   * that handles the program holds open (timers, database pools) cannot keep a broken worker alive.
   */
  onFatal?: (err: unknown) => void;
  /**
   * How the pipes relay is read (socket relays always use the event loop):
   * - `blocking` (the default): one blocking read and one write per event, as PHP's worker does.
   *   The cheapest; async handlers still work (the event loop runs while a handler's promise is
   *   pending), but between events the worker sleeps in the read: timers, sockets and signal
   *   handlers of the program run only while some handler awaits.
   * - `event-loop`: through Node's streams; the event loop runs between events too. For programs
   *   that do work of their own between events (intervals, subscriptions, servers).
   *
   * Default: `RR_TCP_WORKER_MODE` in `env`, else `blocking`.
   */
  mode?: RelayMode;
}

/**
 * Runs a TCP worker: connects to the server per `RR_RELAY`, answers every event with `handler`,
 * and returns once the server stopped the worker or went away.
 *
 * @example
 * ```ts
 * import { serve, TcpEvent } from 'rr-tcp/worker';
 * await serve((request) => (request.event === TcpEvent.Data ? request.body : undefined));
 * ```
 */
export async function serve(handler: Handler, options: ServeOptions = {}): Promise<void> {
  let tcpWorker: TcpWorker | undefined;
  try {
    const env = options.env ?? process.env;
    tcpWorker = await TcpWorker.create(env, { mode: options.mode ?? modeFromEnv(env) });
    await tcpWorker.serve(handler);
    tcpWorker.worker.close();
  } catch (err) {
    process.stderr.write(`rr-tcp worker pid ${process.pid}: fatal: ${describeFatal(err)}; exiting\n`);
    process.exitCode = 1;
    tcpWorker?.worker.close();
    (options.onFatal ?? (() => process.exit(1)))(err);
  }
}

function modeFromEnv(env: NodeJS.ProcessEnv): RelayMode {
  const value = env[MODE_ENV];
  if (value === undefined || value === "") return "blocking";
  if ((MODES as readonly string[]).includes(value)) return value as RelayMode;
  throw new WorkerError("BAD_MODE", `${MODE_ENV} must be ${MODES.join(" or ")}, got ${JSON.stringify(value)}`);
}

/** `[CODE] message (ErrorName)`, with the cause's message when there is one. */
export function describeFatal(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = errorCode(err);
  const cause =
    err.cause instanceof Error && !err.message.includes(err.cause.message) ? ` (cause: ${err.cause.message})` : "";
  return `${code !== undefined ? `[${code}] ` : ""}${err.message}${cause} (${err.name})`;
}
