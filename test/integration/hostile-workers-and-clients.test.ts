/**
 * Hostile workers and hostile clients against the real server, the real pool and real
 * worker processes (test/fixtures/hostile-worker.mjs). Each misbehaviour costs only the
 * connection it happened on, is logged saying what was wrong, and nothing else notices: a
 * bystander connection opened first keeps being served throughout.
 */
import { connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { parseConfig } from "../../src/config/index.js";
import { WorkerPool } from "../../src/pool/index.js";
import { Service } from "../../src/service/service.js";
import { eventually, quiet, scaled, within } from "../fixtures/eventually.js";
import { drains, openClient, portOf, type Client } from "../server/harness.js";

const HOSTILE_WORKER = fileURLToPath(new URL("../fixtures/hostile-worker.mjs", import.meta.url));

const CONFIG = `
server:
  command: ["${process.execPath}", "${HOSTILE_WORKER}"]
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
  pool:
    num_workers: 2
    allocate_timeout: 10s
    destroy_timeout: 2s
`;

let service: Service;
let port: number;
const logs: Array<Record<string, unknown> & { msg: string; level: number }> = [];
let bystander: Client;
/** Events sent to the pool's current workers, in total. */
const execs = (): number => service.pool.state().workers.reduce((n, w) => n + w.num_execs, 0);
/** The pool's workers with an event now. */
const working = (): number => service.pool.state().workers.filter((w) => w.status === WorkerStatus.WORKING).length;
let bystanderRounds = 0;

/** The bystander connection still gets its echo, promptly. */
async function bystanderServed(): Promise<void> {
  const text = `still here ${++bystanderRounds}`;
  bystander.socket.write(`${text}\r\n`);
  await bystander.receive(`:${text}\r\n`, 3000);
}

/** Both workers are up and idle (a replaced one included). */
async function poolHealthy(): Promise<number[]> {
  await eventually(
    () => {
      const workers = service.pool.state().workers;
      return workers.length === 2 && workers.every((w) => w.status === WorkerStatus.READY);
    },
    { what: "two ready workers" },
  );
  return service.pool.state().workers.map((w) => w.pid);
}

/** What earlier tests left behind is gone: the pool is healthy, and only the bystander is connected. */
async function settled(): Promise<void> {
  await poolHealthy();
  await eventually(() => service.server.counters().main!.open === 1 && working() === 0, {
    timeout: 15_000,
    what: "no connection but the bystander's, no worker busy",
    detail: () => `open: ${service.server.counters().main!.open}, working: ${working()}`,
  });
}

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as (typeof logs)[number]);
      done();
    },
  });
  const loaded = parseConfig(CONFIG, { env: {} });
  service = await Service.start(loaded, pino({ level: "info" }, sink), (options) => WorkerPool.start(options));
  port = portOf(service.server.addresses().main!);
  bystander = await openClient(port);
  await bystanderServed();
});

// Each test starts from a settled service, whatever the one before left running.
beforeEach(async () => {
  await settled();
});

afterAll(async () => {
  bystander?.socket.destroy();
  await service?.stop();
});

describe("a worker that writes a bad frame", () => {
  it.each([
    [
      "text on stdout instead of a frame",
      "text",
      /printed text instead of a frame.*Notice: a worker printing to stdout/,
    ],
    ["a header announcing a 4 GiB payload", "huge", /payload of 4294967280 bytes, over the limit/],
    ["a payload frame with two options", "opts", /options length should be equal 1 \(body offset\), got 2 options/],
    ["a header with a bad CRC", "crc", /header CRC32 is 0x[0-9a-f]{8} but bytes 0\.\.5 give 0x[0-9a-f]{8}/],
    ["half a frame, then exit", "half", /stream ended mid-frame: 15 of 35 bytes/],
  ])(
    "%s: that connection is closed with its CLOSE, the worker replaced, the log says why",
    async (_what, command, why) => {
      const before = await poolHealthy();
      const failedBefore = service.server.counters().main!.closed.EXEC_FAILED ?? 0;
      const logsBefore = logs.length;
      const client = await openClient(port);
      client.socket.write(`${command}\r\n`);
      await within(client.ended, { what: "FIN to the client whose event failed" });
      expect(client.received()).toBe("");
      // Its CLOSE event was answered (by a worker still standing): the server let the connection go.
      await eventually(() => (service.server.counters().main!.closed.EXEC_FAILED ?? 0) === failedBefore + 1, {
        what: "the connection done",
      });
      const warning = logs.slice(logsBefore).find((l) => l.level === 40 && l.msg.includes("event failed (BAD_FRAME)"));
      expect(warning, JSON.stringify(logs.slice(logsBefore))).toBeDefined();
      const err = warning!.err as { message: string };
      const culprit = warning!.pid as number;
      expect(before).toContain(culprit);
      expect(err.message).toContain(`worker pid ${culprit} sent a bad frame`);
      expect(err.message).toMatch(why);
      const after = await poolHealthy();
      expect(after).not.toContain(culprit);
      expect(after.filter((pid) => before.includes(pid))).toHaveLength(1);
      await bystanderServed();
    },
  );
});

describe("a worker that replies twice to one event", () => {
  it("never hands its extra reply to the next client: that event goes to another worker, it is replaced", async () => {
    const before = await poolHealthy();
    const logsBefore = logs.length;
    // The other worker is busy, so the next client's event waits in line when the double reply
    // arrives and is handed to the same worker at once: the moment the extra frame would pass
    // for its reply.
    const sent = execs();
    const slow = `slow:${scaled(600)}`;
    const busy = await openClient(port);
    busy.socket.write(`${slow}\r\n`);
    // Its CONNECTED and DATA sent, the DATA still with the worker.
    await eventually(() => execs() === sent + 2 && working() === 1, { what: "the busy client's slow event" });
    const culpritClient = await openClient(port);
    culpritClient.socket.write("twice\r\n");
    await eventually(() => execs() === sent + 4 && working() === 2, {
      what: "the culprit's event with the other worker",
    });
    const next = await openClient(port);
    next.socket.write("mine\r\n");
    await culpritClient.receive(":twice\r\n");
    const culprit = Number(culpritClient.received().split(":")[0]);
    await next.receive(":mine\r\n");
    expect(next.received()).not.toContain("STALE");
    expect(Number(next.received().split(":")[0])).not.toBe(culprit);
    await busy.receive(`:${slow}\r\n`);
    const warning = logs.slice(logsBefore).find((l) => l.msg.includes("sent a frame it was not asked for"));
    expect(warning, JSON.stringify(logs.slice(logsBefore))).toMatchObject({ workerPid: culprit });
    const after = await poolHealthy();
    expect(before).toContain(culprit);
    expect(after).not.toContain(culprit);
    for (const c of [busy, culpritClient, next]) c.socket.end();
    await bystanderServed();
  });
});

/** Writes 1 MiB chunks until `stop()` holds or `total` bytes are written; returns what it wrote. */
async function flood(socket: Socket, total: number, stop: () => boolean): Promise<number> {
  const chunk = Buffer.alloc(1 << 20, "a");
  let written = 0;
  while (written < total && !stop() && !socket.destroyed) {
    written += chunk.length;
    if (!socket.write(chunk)) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return written;
}

describe("hostile clients", () => {
  it("100 MB without a delimiter: FIN once max_message_size (1 MiB) is reached, the log says why", async () => {
    const tooLargeBefore = service.server.counters().main!.closed.MESSAGE_TOO_LARGE ?? 0;
    const client = await openClient(port);
    let fin = false;
    void client.ended.then(() => (fin = true));
    // A hostile client: it goes on writing after the server's FIN (which a lingering close
    // reads and drops, for a bounded time), until 100 MB or the FIN.
    const written = await flood(client.socket, 100 << 20, () => fin);
    await within(client.ended, { what: "FIN after max_message_size" });
    expect(written).toBeLessThan(32 << 20);
    await eventually(() => service.server.counters().main!.closed.MESSAGE_TOO_LARGE === tooLargeBefore + 1, {
      what: "the CLOSE event",
    });
    expect(logs.some((l) => l.level === 40 && /exceeds max_message_size 1048576/.test(l.msg))).toBe(true);
    await bystanderServed();
    client.socket.destroy();
  });

  it("slowloris: 200 connections trickling bytes without a delimiter hold no worker", async () => {
    const open = service.server.counters().main!.open;
    const sent = execs();
    const clients = await Promise.all(Array.from({ length: 200 }, () => openClient(port)));
    const trickle = setInterval(() => clients.forEach((c) => c.socket.write("x")), 20);
    try {
      await eventually(() => service.server.counters().main!.open === open + 200, {
        what: "200 more open connections",
      });
      // Their CONNECTED events answered, and trickling: 10 bytes held per connection, as after 200 ms.
      await eventually(() => execs() === sent + 200 && working() === 0 && service.server.bufferedBytes() >= 200 * 10, {
        what: "200 CONNECTED events answered and the trickled bytes held",
        detail: () =>
          `${execs() - sent} events sent, ${working()} working, ${service.server.bufferedBytes()} bytes held`,
      });
      const started = Date.now();
      await bystanderServed();
      expect(Date.now() - started).toBeLessThan(scaled(1000));
      expect(service.pool.state().workers.every((w) => w.status === WorkerStatus.READY)).toBe(true);
    } finally {
      clearInterval(trickle);
      clients.forEach((c) => c.socket.destroy());
    }
    await eventually(() => service.server.counters().main!.open === open, {
      timeout: 10_000,
      what: "the 200 connections closed",
    });
  });

  it("connect-and-reset flood: every connection gets its CLOSE, no worker is lost, others are served", async () => {
    const before = await poolHealthy();
    const open = service.server.counters().main!.open;
    await Promise.all(
      Array.from(
        { length: 500 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(port, "127.0.0.1", () => {
              socket.resetAndDestroy();
              resolve();
            });
            socket.on("error", () => resolve());
          }),
      ),
    );
    await bystanderServed();
    await eventually(() => service.server.counters().main!.open === open, {
      timeout: 15_000,
      what: "every flood connection done",
    });
    expect(await poolHealthy()).toEqual(before);
  });

  it("a client that never reads its replies is no longer read from, and holds no worker", async () => {
    const client = await openClient(port);
    client.socket.pause();
    const line = Buffer.from(`${"y".repeat(4000)}\r\n`);
    const batch = Buffer.concat(Array.from({ length: 256 }, () => line)); // 1 MiB of messages
    // Write until the socket stays full for 500 ms (scaled): the server has stopped reading.
    let stalled = false;
    for (let written = 0; written < 256 && !stalled; written++) {
      if (client.socket.write(batch)) continue;
      stalled = !(await drains(client.socket, 500));
    }
    expect(stalled).toBe(true);
    // No more events for it and nothing more read from it, while the workers are idle. The
    // events already read finish first (1 MiB of them, slow on a loaded machine), and a late
    // 'drain' (the kernel may still grow its send buffer) lets one more message through, so the
    // first idle moment is not the end: wait for a quiet window instead.
    const local = `127.0.0.1:${client.socket.localPort}`;
    const received = (): number | undefined =>
      service.server.connections("main").find((c) => c.remote_addr === local)?.bytes_received;
    const idle = (): boolean => service.pool.state().workers.every((w) => w.status === WorkerStatus.READY);
    let windows = 0;
    await eventually(
      async () => {
        if (!idle()) return false;
        windows++;
        const [served, read] = [execs(), received()];
        await quiet(300);
        return idle() && execs() === served && received() === read && read !== undefined;
      },
      {
        timeout: 20_000,
        what: "a quiet window: no event sent and no byte read from the stalled client, the workers idle",
        detail: () => `windows tried: ${windows}, execs: ${execs()}, bytes read: ${received()}`,
      },
    );
    await bystanderServed();
    client.socket.destroy();
  });

  it("while a connection's event is with a worker, its socket is not read: a flooding client stalls", async () => {
    const sent = execs();
    const slow = `slow:${scaled(1500)}`;
    const client = await openClient(port);
    client.socket.write(`${slow}\r\n`);
    // Its CONNECTED and DATA sent, the DATA still with the worker.
    await eventually(() => execs() === sent + 2 && working() === 1, { what: "the slow event" });
    // 1 MiB writes of whole messages; the server takes at most what its buffers hold.
    const batch = Buffer.concat(Array.from({ length: 256 }, () => Buffer.from(`${"z".repeat(4000)}\r\n`)));
    let accepted = 0;
    for (let i = 0; i < 256; i++) {
      if (!client.socket.write(batch) && !(await drains(client.socket, 300))) break;
      accepted++;
    }
    expect(accepted).toBeLessThan(32);
    // The other worker serves everyone else meanwhile.
    await bystanderServed();
    // Once the slow reply is in, the connection is read again and every message is served.
    await client.receive(`:${slow}\r\n`, 5000);
    client.socket.resume();
    client.socket.destroy();
  });
});
