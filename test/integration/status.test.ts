/**
 * RoadRunner's health and readiness checks, end to end: a running rr-tcp with `status.address`
 * and `control.addr`, whose /health and /ready must agree, and real worker processes
 * (test/pool/fixtures/worker.mjs) that the tests make busy, crash, fail to start, or hold in their
 * start (the `gate:` start mode, read from a file at every spawn) until the test lets them go.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { eventually, within } from "../fixtures/eventually.js";
import { openClient, type Client } from "../server/harness.js";
import { NODE, WORKER } from "../pool/helpers.js";
import { startService, type RunningService, settled } from "./harness.js";

const NUM_WORKERS = 2;
const dir = mkdtempSync(join(tmpdir(), "rr-tcp-status-"));
/** The fixture worker's start mode, read at every spawn. */
const MODE_FILE = join(dir, "start-mode");
/** For the `gate:` mode: starting workers answer their pid request once this file exists. */
const GATE = join(dir, "gate-open");

const CONFIG = `
version: "3"
server:
  command: "${NODE} ${WORKER}"
  env:
    WORKER_START_FILE: "${MODE_FILE}"
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
  pool:
    num_workers: ${NUM_WORKERS}
    destroy_timeout: 5s
status:
  address: 127.0.0.1:0
control:
  addr: 127.0.0.1:0
`;

let rr: RunningService;
beforeAll(async () => {
  writeFileSync(MODE_FILE, "normal");
  rr = await startService(CONFIG);
});
afterAll(async () => {
  await rr?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every test starts with workers that start at once, all of them ready, no connection open. */
beforeEach(async () => {
  writeFileSync(MODE_FILE, "normal");
  await settled(rr.service, NUM_WORKERS);
});

interface Answer {
  at: string;
  status: number;
  body: string;
}

/** GET `path` on status.address and on control.addr. */
async function ask(path: string): Promise<Answer[]> {
  const bases = [rr.service.status!.address, rr.service.control!.address];
  return Promise.all(
    bases.map(async (at) => {
      const response = await fetch(`http://${at}${path}`);
      return { at, status: response.status, body: await response.text() };
    }),
  );
}

/** Waits until both endpoints answer `path` with `status`, and `reason` (if given) as the report's error. */
async function bothAnswer(path: string, status: number, reason?: RegExp, timeout = 20_000): Promise<Answer[]> {
  let last: Answer[] = [];
  await eventually(
    async () => {
      last = await ask(path);
      return last.every((a) => a.status === status && (reason === undefined || reason.test(errorOf(a.body))));
    },
    {
      timeout,
      what: `${path} answering ${status}${reason ? ` with ${reason}` : ""} on status.address and control.addr`,
      detail: () => `last: ${JSON.stringify(last)}; workers: ${workersSeen()}`,
    },
  );
  return last;
}

function errorOf(body: string): string {
  const report = JSON.parse(body) as Array<{ error_message: string }>;
  return report.map((r) => r.error_message).join("; ");
}

function workersSeen(): string {
  return JSON.stringify(rr.service.pool.state().workers.map((w) => [w.pid, w.status]));
}

function killWorkers(): number[] {
  const pids = rr.service.pool.state().workers.map((w) => w.pid);
  for (const pid of pids) process.kill(pid, "SIGKILL");
  return pids;
}

async function scrape(): Promise<string> {
  return (await fetch(`http://${rr.service.control!.address}/metrics`)).text();
}

function counted(metrics: string, series: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe("health and readiness", () => {
  it("answer 200 with RoadRunner's report while workers are ready", async () => {
    for (const path of ["/health", "/ready", "/health?plugin=tcp", "/ready?plugin=tcp"]) {
      for (const answer of await ask(path)) {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body)).toEqual([{ plugin_name: "tcp", error_message: "", status_code: 200 }]);
      }
    }
  });

  it("/ready fails while every worker has an event, /health does not", async () => {
    const clients: Client[] = [];
    try {
      for (let i = 0; i < NUM_WORKERS; i++) {
        const client = await openClient(rr.port("main"));
        clients.push(client);
        // The fixture worker answers CONNECTED with WRITE "<pid>:"; then it gets an event it never answers.
        await client.receive(":");
        client.socket.write("hang:\r\n");
      }
      await bothAnswer("/ready?plugin=tcp", 503, /^no worker is ready \(0 of 2 workers: 2 working\)$/);
      for (const answer of await ask("/health?plugin=tcp")) expect(answer.status).toBe(200);
    } finally {
      // Killed, they are replaced, and the connections whose events they had are closed.
      killWorkers();
      for (const client of clients) await within(client.ended, { what: "the connection of a killed worker closed" });
    }
  });

  it("fail with the reason while every worker has crashed and none can start, and pass once one can", async () => {
    const exitedBefore = counted(await scrape(), 'rr_tcp_worker_restarts_total{reason="exited"}');
    writeFileSync(MODE_FILE, "exit");
    killWorkers();
    const active = /^no worker is active \(ready or working\) \((no workers|0 of \d workers: \d starting)\)$/;
    await bothAnswer("/health", 503, active);
    await bothAnswer("/ready", 503, /^no worker is ready \((no workers|0 of \d workers: \d starting)\)$/);
    await eventually(async () => counted(await scrape(), 'rr_tcp_worker_restarts_total{reason="start_failed"}') > 0, {
      what: "a replacement that failed to start",
    });
    writeFileSync(MODE_FILE, "normal");
    // The replacements wait for the backoff of the failed starts: seconds at most.
    await bothAnswer("/ready", 200, undefined, 30_000);
    await bothAnswer("/health", 200);
    const metrics = await scrape();
    expect(counted(metrics, 'rr_tcp_worker_restarts_total{reason="exited"}') - exitedBefore).toBe(NUM_WORKERS);
  });

  it("fail naming the starting workers while the replacements are slow to start, and pass once they are ready", async () => {
    rmSync(GATE, { force: true });
    writeFileSync(MODE_FILE, `gate:${GATE}`);
    killWorkers();
    await bothAnswer("/ready?plugin=tcp", 503, /^no worker is ready \(0 of 2 workers: 2 starting\)$/);
    await bothAnswer(
      "/health?plugin=tcp",
      503,
      /^no worker is active \(ready or working\) \(0 of 2 workers: 2 starting\)$/,
    );
    writeFileSync(GATE, "");
    await bothAnswer("/ready?plugin=tcp", 200);
    await bothAnswer("/health?plugin=tcp", 200);
  });

  it("pass throughout a reset, whose new workers are slow to start: the old ones serve until then", async () => {
    const metricsBefore = await scrape();
    const old = rr.service.pool.state().workers.map((w) => w.pid);
    rmSync(GATE, { force: true });
    writeFileSync(MODE_FILE, `gate:${GATE}`);
    const reset = rr.service.pool.reset();
    await eventually(async () => counted(await scrape(), 'rr_tcp_workers{state="starting"}') === NUM_WORKERS, {
      what: "the reset's new workers starting",
    });
    for (const path of ["/health", "/ready"]) for (const answer of await ask(path)) expect(answer.status).toBe(200);
    writeFileSync(GATE, "");
    await within(reset, { timeout: 20_000, what: "the reset" });
    await bothAnswer("/ready", 200);
    const now = rr.service.pool.state().workers.map((w) => w.pid);
    for (const pid of old) expect(now).not.toContain(pid);
    await eventually(
      async () =>
        counted(await scrape(), 'rr_tcp_worker_restarts_total{reason="reset"}') -
          counted(metricsBefore, 'rr_tcp_worker_restarts_total{reason="reset"}') ===
        NUM_WORKERS,
      { what: "the old workers counted as restarts for the reset" },
    );
  });

  it("an unknown plugin is 404, naming it", async () => {
    for (const answer of await ask("/ready?plugin=http")) {
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body)).toEqual([
        { plugin_name: "http", error_message: 'no such plugin: rr-tcp runs only "tcp"', status_code: 404 },
      ]);
    }
  });

  // Last: it stops the service.
  it("while the service stops, /ready fails and /health stays 200, until the endpoints close", async () => {
    const client = await openClient(rr.port("main"));
    await client.receive(":");
    // An event with a worker holds the drain, and with it the endpoints, open.
    client.socket.write("hang:\r\n");
    await eventually(() => rr.service.pool.state().workers.some((w) => w.status === WorkerStatus.WORKING), {
      what: "the event with a worker",
    });
    const stopped = rr.service.stop();
    const status = `http://${rr.service.status!.address}`;
    await eventually(async () => (await fetch(`${status}/ready`)).status === 503, { what: "/ready failing" });
    const ready = await fetch(`${status}/ready`);
    expect(await ready.json()).toEqual([
      { plugin_name: "tcp", error_message: "the service is shutting down", status_code: 503 },
    ]);
    expect((await fetch(`${status}/health`)).status).toBe(200);
    killWorkers();
    await within(stopped, { timeout: 20_000, what: "the stop" });
    await expect(fetch(`${status}/health`)).rejects.toThrow();
  });
});
