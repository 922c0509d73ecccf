/**
 * SIGTERM / SIGINT: the first one stops gracefully and exits 0 (1 if stopping failed); a second
 * one exits at once with code 1, without waiting for workers or connections.
 *
 * One Ctrl-C often arrives twice: the terminal signals the whole foreground group (npm and
 * rr-tcp), and npm forwards its copy to its child. A repeat within DUPLICATE_SIGNAL_WINDOW_MS of
 * the first is that same request, not a second one.
 */
import type { Logger } from "pino";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/** How soon after the first signal a repeat counts as the same delivery (see above). */
export const DUPLICATE_SIGNAL_WINDOW_MS = 200;

export interface ShutdownSignalOptions {
  readonly logger: Logger;
  /** Default `process.exit`. */
  readonly exit?: (code: number) => void;
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
      options.logger.warn({ signal }, `${signal} again: exiting now`);
      exit(1);
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
