import { createServer, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionList, PoolState, WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { ControlServer } from "../../src/control/control-server.js";
import type { ControlledPool, ControlledServer } from "../../src/control/control-target.js";
import { createMetrics } from "../../src/control/metrics.js";
import { PROXY_HEADER_PROBLEMS } from "../../src/net/index.js";
import { RESTART_CAUSES } from "../../src/pool/index.js";
import { CLOSE_REASONS, EVENT_KINDS, PUSH_OUTCOMES, REPLY_KINDS } from "../../src/server/index.js";
import { newServerCounters } from "../../src/server/server-counters.js";

// A real HTTP server over loopback; the pool and TCP server behind it are small stand-ins here
// (the integration tests drive the control API of a real rr-tcp).
function fixtures() {
  let resets = 0;
  const open = new Set(["6f1c4e1a-2b3d-4c5e-8f90-a1b2c3d4e5f6"]);
  const pool: ControlledPool = {
    state: () =>
      PoolState.create({
        workers: [
          { pid: 101, status: WorkerStatus.READY, num_execs: 7, rss_bytes: 30_000_000, age: { seconds: 5, nanos: 0 } },
          {
            pid: 102,
            status: WorkerStatus.WORKING,
            num_execs: 3,
            rss_bytes: 31_000_000,
            age: { seconds: 4, nanos: 0 },
          },
        ],
        queued: 2,
      }),
    reset: async () => void resets++,
    addWorker: async () => {
      throw new Error("the control API does not add workers");
    },
    removeWorker: async () => {
      throw new Error("the control API does not remove workers");
    },
    restarts: () => ({ max_jobs: 3 }),
    cpuPercent: () => 0,
  };
  const server: ControlledServer = {
    closeConnection: (uuid) => open.delete(uuid),
    counters: () => ({ main: { ...newServerCounters(), accepted: 4, open: open.size } }),
    connections: () =>
      [...open].map((uuid) => ({
        uuid,
        server: "main",
        remote_addr: "127.0.0.1:40000",
        age: { seconds: 2, nanos: 0 },
        bytes_received: 10,
        bytes_sent: 7,
        instance: "",
      })),
    bufferedBytes: () => 1234,
    retainedBytes: () => 4096,
    // Pushes are driven against a real server in test/integration/push.test.ts.
    write: () => {
      throw new Error("this stand-in takes no pushes");
    },
    broadcast: () => {
      throw new Error("this stand-in takes no pushes");
    },
  };
  return { pool, server, resets: () => resets };
}

let control: ControlServer | undefined;
afterEach(async () => {
  await control?.close();
  control = undefined;
});

describe("control API", () => {
  it("reports health, workers, connections and metrics", async () => {
    const f = fixtures();
    control = await ControlServer.listen("127.0.0.1:0", f.pool, f.server);
    const base = `http://${control.address}`;
    const health = await fetch(`${base}/health`);
    expect([health.status, await health.json()]).toEqual([
      200,
      [{ plugin_name: "tcp", error_message: "", status_code: 200 }],
    ]);
    // One worker is READY: ready too.
    expect((await fetch(`${base}/ready?plugin=tcp`)).status).toBe(200);
    const connections = ConnectionList.fromJSON(await (await fetch(`${base}/connections`)).json());
    expect(connections.connections).toEqual([
      {
        uuid: "6f1c4e1a-2b3d-4c5e-8f90-a1b2c3d4e5f6",
        server: "main",
        remote_addr: "127.0.0.1:40000",
        age: { seconds: 2, nanos: 0 },
        bytes_received: 10,
        bytes_sent: 7,
        instance: "",
      },
    ]);
    const workers = (await (await fetch(`${base}/workers`)).json()) as {
      workers: { pid: number; status: string }[];
      queued: number;
    };
    expect(workers.workers.map((w) => [w.pid, w.status])).toEqual([
      [101, "WORKER_STATUS_READY"],
      [102, "WORKER_STATUS_WORKING"],
    ]);
    expect(workers.queued).toBe(2);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const lines = metrics.split("\n");
    for (const line of [
      'rr_tcp_workers{state="ready"} 1',
      'rr_tcp_workers{state="working"} 1',
      'rr_tcp_workers{state="starting"} 0',
      "rr_tcp_total_workers 2",
      "rr_tcp_workers_memory_bytes 61000000",
      'rr_tcp_worker_memory_bytes{pid="101"} 30000000',
      'rr_tcp_worker_state{state="ready",pid="101"} 1',
      'rr_tcp_worker_state{state="working",pid="102"} 1',
      "rr_tcp_workers_ready 1",
      "rr_tcp_workers_working 1",
      "rr_tcp_workers_invalid 0",
      'rr_tcp_worker_execs{pid="101"} 7',
      "rr_tcp_requests_queue 2",
      'rr_tcp_worker_restarts_total{reason="max_jobs"} 3',
      'rr_tcp_connections_total{server="main"} 4',
      'rr_tcp_connections_open{server="main"} 1',
      'rr_tcp_events_total{server="main",event="data"} 0',
      'rr_tcp_replies_total{server="main",verb="error"} 0',
      "rr_tcp_buffered_bytes 1234",
      "rr_tcp_retained_bytes 4096",
    ]) {
      expect(lines).toContain(line);
    }
    // Node's process metrics, with the one prefix.
    expect(metrics).toMatch(/^rr_tcp_process_cpu_seconds_total \d/m);
    expect(metrics).not.toContain("rr_tcp_process_process_");
  });

  it("answers 503 with the reason while no worker is ready, and 404 for a plugin it does not run", async () => {
    const f = fixtures();
    const starting = {
      ...f.pool,
      state: () =>
        PoolState.create({
          workers: [
            { pid: 201, status: WorkerStatus.STARTING, num_execs: 0, rss_bytes: 0, age: undefined },
            { pid: 202, status: WorkerStatus.STARTING, num_execs: 0, rss_bytes: 0, age: undefined },
          ],
        }),
    };
    control = await ControlServer.listen("127.0.0.1:0", starting, f.server);
    const base = `http://${control.address}`;
    for (const check of ["health", "ready"]) {
      const response = await fetch(`${base}/${check}?plugin=tcp`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual([
        {
          plugin_name: "tcp",
          error_message: `${check === "ready" ? "no worker is ready" : "no worker is active (ready or working)"} (0 of 2 workers: 2 starting)`,
          status_code: 503,
        },
      ]);
    }
    const unknown = await fetch(`${base}/health?plugin=tcp&plugin=http`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual([
      expect.objectContaining({ plugin_name: "tcp", status_code: 503 }),
      { plugin_name: "http", error_message: 'no such plugin: rr-tcp runs only "tcp"', status_code: 404 },
    ]);
  });

  it("resets the pool and closes connections by uuid", async () => {
    const f = fixtures();
    control = await ControlServer.listen("127.0.0.1:0", f.pool, f.server);
    const base = `http://${control.address}`;
    expect((await fetch(`${base}/reset`, { method: "POST" })).status).toBe(200);
    expect(f.resets()).toBe(1);
    const first = await fetch(`${base}/connections/6F1C4E1A-2B3D-4C5E-8F90-A1B2C3D4E5F6/close`, { method: "POST" });
    expect([first.status, await first.json()]).toEqual([200, { closed: true }]);
    const again = await fetch(`${base}/connections/6f1c4e1a-2b3d-4c5e-8f90-a1b2c3d4e5f6/close`, { method: "POST" });
    expect(again.status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const wrongMethod = await fetch(`${base}/reset`);
    expect([wrongMethod.status, wrongMethod.headers.get("allow")]).toEqual([405, "POST"]);
    expect((await fetch(`${base}/health`, { method: "HEAD" })).status).toBe(200);
  });

  it("names a bad address", async () => {
    const f = fixtures();
    await expect(ControlServer.listen("localhost", f.pool, f.server)).rejects.toMatchObject({
      code: "LISTEN_FAILED",
      key: "control.addr",
      message: expect.stringMatching(/^control\.addr: cannot listen on localhost: "localhost": the port is missing/),
    });
  });

  it("names control.addr when its address is taken", async () => {
    const f = fixtures();
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const addr = `127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      await expect(ControlServer.listen(addr, f.pool, f.server)).rejects.toMatchObject({
        code: "LISTEN_FAILED",
        key: "control.addr",
        message: `control.addr: cannot listen on ${addr}: EADDRINUSE listen EADDRINUSE: address already in use ${addr}`,
      });
    } finally {
      other.close();
    }
  });
});

describe("control.addr in the config", () => {
  it("is checked when the config loads, naming the key", async () => {
    const { parseConfig } = await import("../../src/config/index.js");
    const yaml =
      'server: { command: "node w.js" }\ntcp: { servers: { main: { addr: "127.0.0.1:7000" } } }\ncontrol: { addr: "localhost" }\n';
    expect(() => parseConfig(yaml)).toThrow(/control\.addr: "localhost": the port is missing/);
  });
});

describe("the metrics' help texts", () => {
  it("name every label value each counter can have, from the lists the code counts by", async () => {
    const { pool, server } = fixtures();
    const registry = createMetrics(pool, server);
    const metrics = await registry.getMetricsAsJSON();
    const help = (name: string): string => metrics.find((m) => m.name === name)!.help;
    const lists: [string, readonly string[]][] = [
      ["rr_tcp_connections_closed_total", CLOSE_REASONS],
      ["rr_tcp_proxy_headers_refused_total", PROXY_HEADER_PROBLEMS],
      ["rr_tcp_events_total", EVENT_KINDS],
      ["rr_tcp_replies_total", REPLY_KINDS],
      ["rr_tcp_pushes_total", PUSH_OUTCOMES],
      ["rr_tcp_worker_restarts_total", RESTART_CAUSES],
    ];
    for (const [name, values] of lists) {
      expect(values.length).toBeGreaterThan(1);
      for (const value of values) expect(help(name), name).toMatch(new RegExp(`[:,] ${value.toLowerCase()}\\b`));
    }
    // And nothing counted that is not a restart.
    expect(help("rr_tcp_worker_restarts_total")).not.toMatch(/removed|shutdown|debug/);
  });
});
