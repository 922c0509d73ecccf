/**
 * `tcp.context_codec: proto` with a worker that reads only JSON (every spiral/roadrunner-tcp PHP
 * worker): the worker did not list "proto" in its pid reply, so it is sent RoadRunner's JSON
 * context; nothing crash-loops, and the log names tcp.context_codec once per worker.
 */
import { connect } from "node:net";
import { Writable } from "node:stream";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/index.js";
import { WorkerPool } from "../../src/pool/index.js";
import { Service } from "../../src/service/service.js";
import { within } from "../fixtures/eventually.js";
import { ROOT } from "../integration/harness.js";

const WORKER = join(ROOT, "test", "fixtures", "json-only-worker.mjs");
const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.stop();
});

async function lines(port: number, messages: string[]): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString()));
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  for (const message of messages) {
    const before = received.length;
    socket.write(message);
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => (received.length > before && received.endsWith("\r\n") ? resolve() : undefined);
        socket.on("data", check);
        check();
      }),
      { timeout: 10_000, what: `the reply to ${JSON.stringify(message)}`, detail: () => received },
    );
  }
  socket.end();
  return received;
}

describe("context_codec: proto with a JSON-only worker", () => {
  it("sends it JSON contexts: every event answered, no worker replaced, the log names tcp.context_codec", async () => {
    const records: Array<{ level: number; msg: string; key?: string; workerPid?: number }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n")) if (line) records.push(JSON.parse(line));
        done();
      },
    });
    const loaded = parseConfig(
      `server:\n  command: "${process.execPath} ${WORKER}"\ntcp:\n  context_codec: proto\n  servers:\n    main: { addr: "127.0.0.1:0" }\n  pool:\n    num_workers: 2\n`,
    );
    const service = await Service.start(loaded, pino({ level: "info" }, sink), (o) => WorkerPool.start(o));
    services.push(service);
    const pids = service.pool
      .state()
      .workers.map((w) => w.pid)
      .sort();
    const address = service.server.addresses().main!;
    const port = Number(address.slice(address.lastIndexOf(":") + 1));

    const messages = Array.from({ length: 6 }, (_, i) => `hello ${i}\r\n`);
    expect(await lines(port, messages)).toBe(messages.map((m) => `DATA main ${m}`).join(""));
    expect(await lines(port, ["again\r\n"])).toBe("DATA main again\r\n");

    expect(
      service.pool
        .state()
        .workers.map((w) => w.pid)
        .sort(),
    ).toEqual(pids);
    const warnings = records.filter((r) => r.level === 40 && r.key === "tcp.context_codec");
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(pids.length);
    expect(new Set(warnings.map((w) => w.workerPid)).size).toBe(warnings.length);
    expect(warnings[0]!.msg).toContain("tcp.context_codec: proto");
    expect(records.filter((r) => r.level >= 50)).toEqual([]);
  });
});
