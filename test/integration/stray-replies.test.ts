/**
 * A worker that echoes event ids and answers one event twice never hands its second reply to
 * another client (docs/behaviour.md#replies-matched-to-their-events), against the real server,
 * pool and worker processes (test/fixtures/hostile-worker.mjs): a reply with an earlier event's
 * id, arriving while the worker holds a later event, is a protocol error; the worker is killed
 * and only the connection of the event it held is closed. For a worker that does not echo ids
 * (PHP's), a second reply is caught only when it is on the relay by the time the next event is
 * due (test/integration/hostile-workers-and-clients.test.ts); a later one cannot be told apart.
 */
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { parseConfig } from "../../src/config/index.js";
import { WorkerPool } from "../../src/pool/index.js";
import { Service } from "../../src/service/service.js";
import { eventually, scaled } from "../fixtures/eventually.js";
import { openClient, portOf, type Client } from "../server/harness.js";

const HOSTILE_WORKER = fileURLToPath(new URL("../fixtures/hostile-worker.mjs", import.meta.url));

interface Running {
  service: Service;
  port: number;
  logs: Array<Record<string, unknown> & { msg: string }>;
  clients: Client[];
}

let running: Running | undefined;

async function start(echoEventId: boolean): Promise<Running> {
  const logs: Running["logs"] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as Running["logs"][number]);
      done();
    },
  });
  const config = `
server:
  command: ["${process.execPath}", "${HOSTILE_WORKER}"]
  env: { HOSTILE_ECHO_EVENT_ID: "${echoEventId ? 1 : 0}" }
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
  pool:
    num_workers: 2
    allocate_timeout: 20s
    destroy_timeout: 2s
`;
  const service = await Service.start(parseConfig(config, { env: {} }), pino({ level: "info" }, sink), (options) =>
    WorkerPool.start(options),
  );
  running = { service, port: portOf(service.server.addresses().main!), logs, clients: [] };
  return running;
}

afterEach(async () => {
  for (const client of running?.clients ?? []) client.socket.destroy();
  await running?.service.stop();
  running = undefined;
});

async function client(r: Running): Promise<Client> {
  const c = await openClient(r.port);
  r.clients.push(c);
  return c;
}

const execs = (r: Running): number => r.service.pool.state().workers.reduce((n, w) => n + w.num_execs, 0);
const working = (r: Running): number =>
  r.service.pool.state().workers.filter((w) => w.status === WorkerStatus.WORKING).length;
const pidOf = (c: Client): number => Number(c.received().split(":")[0]);

async function twoReadyWorkers(r: Running): Promise<number[]> {
  await eventually(
    () => {
      const workers = r.service.pool.state().workers;
      return workers.length === 2 && workers.every((w) => w.status === WorkerStatus.READY);
    },
    { what: "two ready workers" },
  );
  return r.service.pool.state().workers.map((w) => w.pid);
}

/** The culprit is gone and a new worker took its place (the other may still be busy). */
async function replaced(r: Running, culprit: number): Promise<void> {
  await eventually(
    () => {
      const workers = r.service.pool.state().workers;
      return (
        workers.length === 2 &&
        workers.every(
          (w) => w.pid !== culprit && (w.status === WorkerStatus.READY || w.status === WorkerStatus.WORKING),
        )
      );
    },
    { what: `worker pid ${culprit} replaced` },
  );
}

/** Occupies one of the two workers with a slow event, so the other one takes every next event. */
async function occupyOneWorker(r: Running): Promise<Client> {
  const sent = execs(r);
  const busy = await client(r);
  busy.socket.write(`slow:${scaled(30_000)}\r\n`);
  await eventually(() => execs(r) === sent + 2 && working(r) === 1, { what: "the busy client's slow event" });
  return busy;
}

describe("a worker that echoes event ids and answers one event twice, the second time late", () => {
  it("the late reply is refused: the worker is killed, only the connection of the event it held closes", async () => {
    const r = await start(true);
    const before = await twoReadyWorkers(r);
    await occupyOneWorker(r);
    const culpritClient = await client(r);
    const next = await client(r);
    const bystander = await client(r);
    await eventually(() => working(r) === 1 && execs(r) === 5, { what: "three CONNECTED events answered" });
    // The stale reply comes `gap` ms after the first one; the next client's event, sent as soon
    // as the first reply arrived, is then still with the culprit (it takes 3 * gap).
    const gap = scaled(500);
    culpritClient.socket.write(`twice-late:${gap}\r\n`);
    await culpritClient.receive(`:twice-late:${gap}\r\n`);
    const culprit = pidOf(culpritClient);
    next.socket.write(`slow:${3 * gap}\r\n`);
    await next.ended;
    expect(next.received()).not.toContain("STALE");
    expect(next.received()).toBe("");
    // The connection's log line names the event's failure: the worker's reply to another event.
    const refusal = r.logs.find((l) => l.code === "BAD_FRAME");
    expect(refusal, JSON.stringify(r.logs)).toMatchObject({ err: { pid: culprit } });
    expect((refusal?.err as { message: string }).message).toMatch(
      new RegExp(
        `^worker pid ${culprit} sent a bad frame: its reply carries event id \\d+ in 2 options, not the id \\d+`,
      ),
    );
    expect(before).toContain(culprit);
    await replaced(r, culprit);
    // Nobody else lost anything: the culprit's own client and a bystander are still served.
    culpritClient.socket.write("again\r\n");
    await culpritClient.receive(":again\r\n");
    bystander.socket.write("hello\r\n");
    await bystander.receive(":hello\r\n");
    expect(culpritClient.received()).not.toContain("STALE");
    expect(bystander.received()).not.toContain("STALE");
  });
});
