/**
 * A worker whose server is gone exits, even in the middle of an event. The server closing the
 * relay is seen at the next read, but a handler that awaits something long (a slow query, a
 * timer) would go on for as long as it takes, and a server killed with SIGKILL cannot kill its
 * workers (they run in process groups of their own). The worker's parent is its server
 * (RoadRunner's or rr-tcp's); once it is gone the kernel gives the worker another parent, and a
 * timer that compares process.ppid notices. The timer keeps nothing alive and only runs when
 * the event loop does: between events in event-loop mode, and while an async handler awaits.
 */

/** How often the parent is looked at. */
export const ORPHAN_CHECK_MS = 250;

let watching = false;

/** Starts the watch, once per process. */
export function exitWhenOrphaned(exit: (code: number) => void = (code) => process.exit(code)): void {
  if (watching) return;
  watching = true;
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent) return;
    process.stderr.write(
      `rr-tcp worker pid ${process.pid}: its server (pid ${parent}) is gone; exiting without finishing the event\n`,
    );
    exit(1);
  }, ORPHAN_CHECK_MS).unref();
}
