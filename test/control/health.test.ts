/**
 * RoadRunner's status checks (/health, /ready) and the HTTP endpoint every listener of the
 * control side is: real HTTP over loopback, a stand-in pool whose workers the test sets.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PoolState, WorkerStatus, type WorkerState } from "../../gen/ts/rr/tcp/v1/control.js";
import type { ControlledPool } from "../../src/control/control-target.js";
import { healthRoutes, workersProblem } from "../../src/control/health.js";
import { HttpEndpoint, jsonReply } from "../../src/control/http-endpoint.js";
import { captureLogs } from "../pool/helpers.js";

const worker = (pid: number, status: WorkerStatus): WorkerState => ({
  pid,
  status,
  num_execs: 0,
  rss_bytes: 0,
  age: undefined,
});

function poolWith(workers: () => WorkerState[]): ControlledPool {
  return {
    state: () => PoolState.create({ workers: workers() }),
    reset: async () => undefined,
    addWorker: async () => undefined,
    removeWorker: async () => undefined,
    restarts: () => ({}),
    cpuPercent: () => 0,
  };
}

let endpoint: HttpEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe("workersProblem", () => {
  it("health passes with a ready or a working worker; ready only with a ready one", () => {
    const working = [worker(1, WorkerStatus.WORKING), worker(2, WorkerStatus.STARTING)];
    expect(workersProblem("health", working)).toBeUndefined();
    expect(workersProblem("ready", working)).toBe("no worker is ready (0 of 2 workers: 1 starting, 1 working)");
    expect(workersProblem("ready", [...working, worker(3, WorkerStatus.READY)])).toBeUndefined();
  });

  it("names what the workers are doing instead, or that there are none", () => {
    expect(workersProblem("health", [worker(1, WorkerStatus.STARTING), worker(2, WorkerStatus.STARTING)])).toBe(
      "no worker is active (ready or working) (0 of 2 workers: 2 starting)",
    );
    expect(workersProblem("ready", [worker(1, WorkerStatus.STOPPING)])).toBe(
      "no worker is ready (0 of 1 workers: 1 stopping)",
    );
    expect(workersProblem("health", [])).toBe("no worker is active (ready or working) (no workers)");
  });
});

describe("/health and /ready", () => {
  it("answer the configured unavailable status, all plugins when none is asked, and follow the pool", async () => {
    let workers = [worker(7, WorkerStatus.STARTING)];
    endpoint = await HttpEndpoint.listen(
      "127.0.0.1:0",
      "status.address",
      healthRoutes(
        poolWith(() => workers),
        { unavailableStatusCode: 500 },
      ),
    );
    const base = `http://${endpoint.address}`;
    const bare = await fetch(`${base}/ready`);
    expect([bare.status, await bare.json()]).toEqual([
      500,
      [{ plugin_name: "tcp", error_message: "no worker is ready (0 of 1 workers: 1 starting)", status_code: 500 }],
    ]);
    workers = [worker(7, WorkerStatus.READY)];
    const ok = await fetch(`${base}/ready?plugin=tcp&plugin=tcp`);
    expect([ok.status, await ok.json()]).toEqual([
      200,
      [
        { plugin_name: "tcp", error_message: "", status_code: 200 },
        { plugin_name: "tcp", error_message: "", status_code: 200 },
      ],
    ]);
    // Only these two routes here: the control API's others are not on status.address.
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it("once the service stops: /ready fails, /health stays 200, as RoadRunner's status plugin", async () => {
    let stopping = false;
    endpoint = await HttpEndpoint.listen(
      "127.0.0.1:0",
      "status.address",
      healthRoutes(
        poolWith(() => [worker(7, WorkerStatus.READY)]),
        { unavailableStatusCode: 503, stopping: () => stopping },
      ),
    );
    const base = `http://${endpoint.address}`;
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    stopping = true;
    const ready = await fetch(`${base}/ready`);
    expect([ready.status, await ready.json()]).toEqual([
      503,
      [{ plugin_name: "tcp", error_message: "the service is shutting down", status_code: 503 }],
    ]);
    const health = await fetch(`${base}/health`);
    expect([health.status, await health.json()]).toEqual([
      200,
      [{ plugin_name: "tcp", error_message: "", status_code: 200 }],
    ]);
  });
});

describe("HttpEndpoint", () => {
  it("answers 500 for a route that throws, logs it naming the key, and serves on", async () => {
    const logs = captureLogs();
    let calls = 0;
    endpoint = await HttpEndpoint.listen(
      "127.0.0.1:0",
      "metrics.address",
      [
        {
          method: "GET",
          path: "/metrics",
          handle: () => {
            if (++calls === 1) throw new Error("the registry broke");
            return jsonReply(200, { ok: true });
          },
        },
      ],
      logs.logger,
    );
    const base = `http://${endpoint.address}`;
    const failed = await fetch(`${base}/metrics`);
    expect([failed.status, await failed.json()]).toEqual([500, { error: "the registry broke" }]);
    expect(logs.records.find((r) => r.msg === "HTTP request on metrics.address failed")).toBeDefined();
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it("names its config key when the address cannot be used", async () => {
    await expect(HttpEndpoint.listen("localhost", "status.address", [])).rejects.toMatchObject({
      code: "LISTEN_FAILED",
      key: "status.address",
    });
  });
});
