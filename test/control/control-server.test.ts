import { createServer, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { PoolState, WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { ControlServer } from "../../src/control/control-server.js";
import type { ControlledPool, ControlledServer } from "../../src/control/control-target.js";

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
  };
  const server: ControlledServer = {
    closeConnection: (uuid) => open.delete(uuid),
    openConnections: () => ({ main: open.size }),
    bufferedBytes: () => 1234,
    retainedBytes: () => 4096,
  };
  return { pool, server, resets: () => resets };
}

let control: ControlServer | undefined;
afterEach(async () => {
  await control?.close();
  control = undefined;
});

describe("control API", () => {
  it("reports health, workers and metrics", async () => {
    const f = fixtures();
    control = await ControlServer.listen("127.0.0.1:0", f.pool, f.server);
    const base = `http://${control.address}`;
    expect(await (await fetch(`${base}/health`)).text()).toBe("ok\n");
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
    expect(metrics).toMatch(/rr_tcp_workers\{status="ready"\} 1/);
    expect(metrics).toMatch(/rr_tcp_workers\{status="working"\} 1/);
    expect(metrics).toMatch(/rr_tcp_worker_execs\{pid="101"\} 7/);
    expect(metrics).toMatch(/rr_tcp_connections_open\{server="main"\} 1/);
    expect(metrics).toMatch(/rr_tcp_events_queued 2/);
    expect(metrics).toMatch(/rr_tcp_buffered_bytes 1234/);
    expect(metrics).toMatch(/rr_tcp_retained_bytes 4096/);
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
  });

  it("names a bad address", async () => {
    const f = fixtures();
    await expect(ControlServer.listen("localhost", f.pool, f.server)).rejects.toThrow(
      /"localhost": the port is missing/,
    );
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
