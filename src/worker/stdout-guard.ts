/**
 * Keeps a worker's own output off the pipes relay. On pipes, stdout carries frames to the
 * server; one stray `console.log` there and RoadRunner reads text as a frame header (CRC error,
 * worker killed). Like PHP's `StdoutHandler`, everything the program writes to stdout goes to
 * stderr instead, which RoadRunner logs; only the relay keeps a way to the real stdout.
 */
import { Writable } from "node:stream";

/** An installed guard. */
export interface StdoutGuard {
  /** The only writer of the real stdout: give it to the relay. */
  readonly relayOutput: Writable;
  /** Puts `process.stdout.write` back (for tests and embedding; a worker never needs it). */
  restore(): void;
}

type WriteFn = typeof process.stdout.write;

// One guard per stream: guarding twice would take the first redirect for the real stdout.
const installed = new WeakMap<NodeJS.WriteStream, StdoutGuard>();

/**
 * Redirects `process.stdout.write` (and so `console.log`, `console.info`, ...) to stderr and
 * returns the stream the relay must write its frames to. Calling it again returns the same guard.
 */
export function guardStdout(stdout: NodeJS.WriteStream = process.stdout): StdoutGuard {
  const existing = installed.get(stdout);
  if (existing !== undefined) return existing;
  // Own property if someone patched it already, else the stream's prototype method.
  const realWrite: WriteFn = stdout.write;
  const writeFrame = realWrite as (
    this: NodeJS.WriteStream,
    chunk: Uint8Array,
    cb: (err?: Error | null) => void,
  ) => boolean;
  const toStderr = function write(this: unknown, ...args: Parameters<WriteFn>): boolean {
    return Reflect.apply(process.stderr.write, process.stderr, args) as boolean;
  } as WriteFn;
  stdout.write = toStderr;

  const relayOutput = new Writable({
    // The callback carries the write's outcome (EPIPE when the server is gone), so errors reach
    // the relay through this stream and back-pressure is that of the real stdout.
    write(chunk: Buffer, _encoding, callback) {
      writeFrame.call(stdout, chunk, (err?: Error | null) => {
        callback(err ?? null);
      });
    },
    // Ending the relay must not end the process's stdout: other code may still hold it.
    final(callback) {
      callback();
    },
  });
  // The server closing our stdout surfaces as an error event; without a listener Node would
  // crash the worker with an uncaught EPIPE instead of letting the relay report it.
  const onError = (err: Error): void => {
    relayOutput.destroy(err);
  };
  stdout.on("error", onError);

  const guard: StdoutGuard = {
    relayOutput,
    restore() {
      if (stdout.write === toStderr) stdout.write = realWrite;
      stdout.off("error", onError);
      installed.delete(stdout);
    },
  };
  installed.set(stdout, guard);
  return guard;
}
