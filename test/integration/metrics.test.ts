/**
 * Metrics and the connection list, end to end: a running rr-tcp with `metrics.address`,
 * `control.addr` and `rpc.listen`, real recording workers (CONNECTED and CLOSE get CONTINUE, DATA
 * is echoed), real clients. Each test uses a server of its own, so the counts it checks are
 * exactly the ones it caused.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConnectionList, WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { RpcClient } from "../../src/worker/index.js";
import { eventually, within } from "../fixtures/eventually.js";
import { openClient, type Client } from "../server/harness.js";
import { startService, type RunningService } from "./harness.js";

const CONFIG = `
version: "3"
rpc:
  listen: tcp://127.0.0.1:0
server:
  command: \${WORKER_CMD}
  env:
    RECORD_FILE: \${RECORD_FILE}
tcp:
  servers:
    exact: { addr: "127.0.0.1:0" }
    listed: { addr: "127.0.0.1:0" }
    other: { addr: "127.0.0.1:0" }
    crash: { addr: "127.0.0.1:0" }
  pool: { num_workers: 2, destroy_timeout: 5s }
metrics:
  address: 127.0.0.1:0
control:
  addr: 127.0.0.1:0
`;

let rr: RunningService;
let rpc: RpcClient;
beforeAll(async () => {
  rr = await startService(CONFIG);
  rpc = await RpcClient.connect(rr.service.rpc!.address);
});
afterAll(async () => {
  rpc?.close();
  await rr?.stop();
});

beforeEach(async () => {
  await eventually(
    () =>
      rr.service.server.connectionIds().length === 0 &&
      rr.service.pool.state().workers.filter((w) => w.status === WorkerStatus.READY).length === 2,
    { timeout: 20_000, what: "no open connection and 2 ready workers" },
  );
});

/** The /metrics text of metrics.address and of control.addr, which must be the same registry's. */
async function scrapeBoth(): Promise<[string, string]> {
  const get = async (address: string) => (await fetch(`http://${address}/metrics`)).text();
  return [await get(rr.service.metrics!.address), await get(rr.service.control!.address)];
}

/** The value of one series (its name and labels exactly as printed), or undefined. */
function value(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function closeAll(clients: Client[]): Promise<void> {
  for (const client of clients) client.socket.end();
  for (const client of clients) await within(client.ended, { what: "the server's FIN" });
  await eventually(() => rr.service.server.connectionIds().length === 0, { what: "every CLOSE event answered" });
}

describe("metrics", () => {
  it("count exactly what the clients did: connections, events, replies, bytes, closes, event times", async () => {
    const clients = await Promise.all([0, 1, 2].map(() => openClient(rr.port("exact"))));
    // Five messages over the three connections, each answered before the next.
    const messages = [
      [0, "one\r\n"],
      [1, "two\r\n"],
      [2, "three\r\n"],
      [0, "four\r\n"],
      [1, "five!\r\n"],
    ] as const;
    for (const [i, message] of messages) {
      const before = clients[i]!.received();
      clients[i]!.socket.write(message);
      await clients[i]!.receive(before + message);
    }
    await closeAll(clients);
    const bytes = messages.reduce((sum, [, m]) => sum + m.length, 0);
    const expected: Record<string, number> = {
      'rr_tcp_connections_total{server="exact"}': 3,
      'rr_tcp_connections_open{server="exact"}': 0,
      'rr_tcp_connections_closed_total{server="exact",reason="client_eof"}': 3,
      'rr_tcp_events_total{server="exact",event="connected"}': 3,
      'rr_tcp_events_total{server="exact",event="data"}': 5,
      'rr_tcp_events_total{server="exact",event="close"}': 3,
      'rr_tcp_replies_total{server="exact",verb="write"}': 5,
      'rr_tcp_replies_total{server="exact",verb="continue"}': 6,
      'rr_tcp_replies_total{server="exact",verb="error"}': 0,
      'rr_tcp_bytes_received_total{server="exact"}': bytes,
      'rr_tcp_bytes_sent_total{server="exact"}': bytes,
      // 3 CONNECTED + 5 DATA + 3 CLOSE, every one of them with a worker.
      'rr_tcp_event_queue_seconds_count{server="exact"}': 11,
      'rr_tcp_event_worker_seconds_count{server="exact"}': 11,
      'rr_tcp_event_worker_seconds_bucket{le="+Inf",server="exact"}': 11,
      'rr_tcp_connections_total{server="other"}': 0,
      rr_tcp_total_workers: 2,
      rr_tcp_workers_ready: 2,
      rr_tcp_requests_queue: 0,
    };
    for (const metrics of await scrapeBoth()) {
      for (const [series, count] of Object.entries(expected))
        expect([series, value(metrics, series)]).toEqual([series, count]);
      // Time is spent: a worker's answer takes more than nothing.
      expect(value(metrics, 'rr_tcp_event_worker_seconds_sum{server="exact"}')).toBeGreaterThan(0);
      // Node's process metrics, once, with one prefix.
      expect(metrics.split("\n").filter((l) => l.startsWith("rr_tcp_process_cpu_seconds_total "))).toHaveLength(1);
      expect(metrics).not.toContain("process_process");
      for (const pid of rr.service.pool.state().workers.map((w) => w.pid)) {
        expect(value(metrics, `rr_tcp_worker_state{state="ready",pid="${pid}"}`)).toBe(1);
        expect(value(metrics, `rr_tcp_worker_memory_bytes{pid="${pid}"}`)).toBeGreaterThan(0);
      }
    }
  });

  it("count a worker that crashes during an event: the error, the close, the restart", async () => {
    const [before] = await scrapeBoth();
    const exited = value(before, 'rr_tcp_worker_restarts_total{reason="exited"}') ?? 0;
    const client = await openClient(rr.port("crash"));
    await rr.recording.uuidOf(client.socket.localPort);
    client.socket.write("crash\r\n");
    await within(client.ended, { what: "the connection closed after the crash" });
    client.socket.end();
    await eventually(() => rr.service.server.connectionIds().length === 0, { what: "the CLOSE event answered" });
    await eventually(
      async () => value((await scrapeBoth())[0], 'rr_tcp_worker_restarts_total{reason="exited"}') === exited + 1,
      { timeout: 10_000, what: "the crashed worker counted" },
    );
    const [after] = await scrapeBoth();
    expect(value(after, 'rr_tcp_replies_total{server="crash",verb="error"}')).toBe(1);
    expect(value(after, 'rr_tcp_connections_closed_total{server="crash",reason="exec_failed"}')).toBe(1);
    // The failed DATA event was with a worker too: it is timed as the other two are.
    expect(value(after, 'rr_tcp_event_worker_seconds_count{server="crash"}')).toBe(3);
  });
});

describe("listing connections", () => {
  it("tcp.Connections over the RPC and GET /connections list the open connections, their servers and clients", async () => {
    const clients = [
      await openClient(rr.port("listed")),
      await openClient(rr.port("listed")),
      await openClient(rr.port("other")),
    ];
    try {
      const uuids = await Promise.all(clients.map((c) => rr.recording.uuidOf(c.socket.localPort)));
      clients[0]!.socket.write("hello\r\n");
      await clients[0]!.receive("hello\r\n");
      const expected = clients.map((client, i) => ({
        uuid: uuids[i],
        server: i < 2 ? "listed" : "other",
        remote_addr: `127.0.0.1:${client.socket.localPort}`,
        bytes_received: i === 0 ? 7 : 0,
        bytes_sent: i === 0 ? 7 : 0,
        // No cluster: no instance to name.
        instance: "",
      }));
      const overRpc = ConnectionList.fromJSON(await rpc.call("tcp.Connections", "tcp"));
      expect(overRpc.connections.map(({ age: _age, ...rest }) => rest)).toEqual(expected);
      for (const c of overRpc.connections) expect(c.age!.seconds).toBeLessThan(60);
      const overHttp = ConnectionList.fromJSON(
        await (await fetch(`http://${rr.service.control!.address}/connections`)).json(),
      );
      expect(overHttp.connections.map(({ age: _age, ...rest }) => rest)).toEqual(expected);
      await expect(rpc.call("tcp.Connections", "http")).rejects.toThrow(/no such plugin: http/);
    } finally {
      await closeAll(clients);
    }
    expect(await rpc.call("tcp.Connections", "tcp")).toEqual({});
  });
});
