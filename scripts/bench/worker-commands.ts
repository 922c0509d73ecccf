/**
 * The worker commands the benchmark runs, absolute so they work from any cwd. The TypeScript
 * worker runs under `node --import <tsx loader>` (not the tsx CLI, which starts a second process
 * whose pid is not the one the pool spawned).
 */
const root = new URL("../../", import.meta.url).pathname;

export const ECHO_WORKER_COMMAND = [process.execPath, "--import", import.meta.resolve("tsx"), `${root}examples/echo-worker.ts`];
export const PYTHON_ECHO_WORKER_COMMAND = ["/usr/bin/python3", `${root}examples/python/echo_worker.py`];
export const PING_WORKER_COMMAND = [process.execPath, "--import", import.meta.resolve("tsx"), `${root}scripts/bench/ping-worker.ts`];
