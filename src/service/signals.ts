/**
 * SIGTERM / SIGINT / SIGQUIT (RoadRunner drains on each): the first one stops gracefully and
 * exits 0 (1 if stopping failed); a second one kills what is left (`kill`: the workers' process
 * groups, so a busy worker and its own children do not outlive the server) and exits at once
 * with code 1, without waiting for workers or connections.
 *
 * One Ctrl-C often arrives twice: the terminal signals the whole foreground group (npm and
 * rr-tcp), and npm forwards its copy to its child. A repeat within DUPLICATE_SIGNAL_WINDOW_MS of
 * the first is that same request, not a second one.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "pino";

const SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;

/** How soon after the first signal a repeat counts as the same delivery (see above). */
export const DUPLICATE_SIGNAL_WINDOW_MS = 200;

export interface ShutdownSignalOptions {
  readonly logger: Logger;
  /** Default `process.exit`. */
  readonly exit?: (code: number) => void;
  /** Run before exiting on a second signal; must be synchronous (nothing waits for it). */
  readonly kill?: () => void;
}

/**
 * Installs the handlers. `stop` is the graceful stop.
 * @returns a function that removes them
 */
export function exitOnSignals(stop: () => Promise<void>, options: ShutdownSignalOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping && Date.now() - firstAt < DUPLICATE_SIGNAL_WINDOW_MS) {
      options.logger.debug({ signal }, `${signal} again at once: the same request delivered twice`);
      return;
    }
    if (stopping) {
      options.logger.warn({ signal }, `${signal} again: killing the workers and exiting now`);
      try {
        options.kill?.();
      } finally {
        exit(1);
      }
      return;
    }
    stopping = true;
    firstAt = Date.now();
    options.logger.info(
      { signal },
      `${signal}: shutting down (stop accepting, finish events, close connections, stop workers)`,
    );
    stop().then(
      () => exit(0),
      (err: unknown) => {
        options.logger.error({ err }, "shutdown failed");
        exit(1);
      },
    );
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
}

/**
 * SIGKILL to each pid's process group (workers run as group leaders, see src/pool/worker-child.ts),
 * then to the pid itself in case it left its group. Synchronous, for a process about to exit.
 */
export function killProcessGroups(pids: Iterable<number>): void {
  for (const pid of pids) {
    // pid 0 or below would name our own group, or every process we may signal.
    if (!(pid > 0)) continue;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }
}

/**
 * The pids of this process's children, from /proc (Linux): every worker, including ones still
 * starting, which the pool does not list yet. Empty where there is no /proc.
 */
export function childPids(parent: number = process.pid): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    if (parentPid(Number(entry)) === parent) children.push(Number(entry));
  }
  return children;
}

/** The parent pid of `pid` from /proc (Linux); undefined when it is gone or there is no /proc. */
export function parentPid(pid: number): number | undefined {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}
