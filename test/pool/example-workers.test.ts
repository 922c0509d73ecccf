/**
 * The pool running the project's example workers (the TypeScript SDK's, the Python one) rather
 * than the test fixture: sides written independently must agree on the relay.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { jsonContextCodec } from "../../src/protocol/context-codec.js";
import { WorkerPool } from "../../src/pool/worker-pool.js";
import { scaled } from "../fixtures/eventually.js";
import { isAlive, ms, NODE } from "./helpers.js";

const ECHO = fileURLToPath(new URL("../../examples/echo-worker.ts", import.meta.url));
const PY_ECHO = fileURLToPath(new URL("../../examples/python/echo_worker.py", import.meta.url));
const PYTHON = "/usr/bin/python3";

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

function context(event: TcpEvent): Buffer {
  return jsonContextCodec.encode({
    remote_addr: "127.0.0.1:5555",
    server: "echo",
    uuid: "6f1d0c52-3c36-4b8a-9a7e-2f7c1a0e4b11",
    event,
  });
}

const workers: Array<[string, string[], boolean]> = [
  ["TypeScript SDK", [NODE, "--import", "tsx", ECHO], existsSync(ECHO)],
  ["Python", [PYTHON, PY_ECHO], existsSync(PYTHON) && existsSync(PY_ECHO)],
];

describe.each(workers.filter(([, , present]) => present))("with the %s echo worker", (_name, command) => {
  it.each(["pipes", "tcp://127.0.0.1:0"])("serves a connection over %s and stops cleanly", async (relay) => {
    pool = await WorkerPool.start({
      command,
      pool: { num_workers: 2, allocate_timeout: ms(scaled(10_000)), destroy_timeout: ms(scaled(3_000)) },
      relay,
    });
    const connected = await pool.exec({ context: context(TcpEvent.CONNECTED), body: Buffer.alloc(0), flags: 0 });
    expect(connected.context.toString()).toBe("CONTINUE");
    const data = await pool.exec({ context: context(TcpEvent.DATA), body: Buffer.from("ping\r\n"), flags: 0 });
    expect(data.context.toString()).toBe("WRITE");
    expect(data.body.toString()).toBe("ping\r\n");
    const quit = await pool.exec({ context: context(TcpEvent.DATA), body: Buffer.from("quit\r\n"), flags: 0 });
    expect(quit.context.toString()).toBe("WRITECLOSE");
    await pool.exec({ context: context(TcpEvent.CLOSE), body: Buffer.alloc(0), flags: 0 });
    const pids = pool.state().workers.map((w) => w.pid);
    const started = Date.now();
    await pool.destroy();
    expect(Date.now() - started).toBeLessThan(scaled(3_000));
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
