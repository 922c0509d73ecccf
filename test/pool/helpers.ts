/**
 * Shared setup for the pool tests: real child processes running fixtures/worker.mjs.
 */
import { fileURLToPath } from "node:url";
import { pino, type Logger } from "pino";
import { expect } from "vitest";
import { scaled } from "../fixtures/eventually.js";
import { PoolError } from "../../src/pool/errors.js";
import type { Duration } from "../../gen/ts/google/protobuf/duration.js";
import { msToDuration } from "../../src/protocol/duration.js";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import type { PoolOptionsInput } from "../../src/pool/pool-options.js";
import { WorkerPool, type ExecReply, type WorkerPoolOptions } from "../../src/pool/worker-pool.js";

export const WORKER = fileURLToPath(new URL("./fixtures/worker.mjs", import.meta.url));
export const NODE = process.execPath;

export const ms = (n: number): Duration => msToDuration(n);

/** An event whose body tells the fixture worker what to do. */
export function event(body: string, preferPid?: number) {
  return {
    context: Buffer.from('{"event":"DATA"}'),
    body: Buffer.from(body),
    flags: 0,
    ...(preferPid !== undefined && { preferPid }),
  };
}

/** The fixture's reply body `<pid>:<request body>` split apart. */
export function parseReply(reply: ExecReply): { pid: number; body: string } {
  const text = reply.body.toString();
  const colon = text.indexOf(":");
  return { pid: Number(text.slice(0, colon)), body: text.slice(colon + 1) };
}

/** Log records written by the pool, for assertions. */
export interface LogCapture {
  logger: Logger;
  records: Array<Record<string, unknown> & { msg: string; level: number }>;
}

export function captureLogs(): LogCapture {
  const records: LogCapture["records"] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void records.push(JSON.parse(line)) });
  return { logger, records };
}

/** Starts a pool of fixture workers with short timeouts; `env` goes to the workers. */
export function startPool(
  pool: PoolOptionsInput,
  extra: Partial<WorkerPoolOptions> & { workerEnv?: Record<string, string> } = {},
): Promise<WorkerPool> {
  const { workerEnv, ...rest } = extra;
  return WorkerPool.start({
    command: [NODE, WORKER],
    pool: { allocate_timeout: ms(scaled(5_000)), destroy_timeout: ms(scaled(2_000)), ...pool },
    ...(workerEnv !== undefined && { env: workerEnv }),
    ...rest,
  });
}

export { isAlive } from "../fixtures/process-alive.js";

/** Pids of the pool's READY or WORKING workers. */
export function livePids(pool: WorkerPool): number[] {
  return pool
    .state()
    .workers.filter((w) => w.status === WorkerStatus.READY || w.status === WorkerStatus.WORKING)
    .map((w) => w.pid);
}

/** The PoolError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function failure(promise: Promise<unknown>): Promise<PoolError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PoolError);
  return err as PoolError;
}
