/**
 * Chaos 5: idle connections cannot lock the application out of its control channels. 300 idle
 * TCP connections (past the RPC's budget of 256) to rpc.listen of a real `rr-tcp serve`, then a
 * real goridge RPC client (the SDK's RpcClient, as a PHP app's spiral/goridge) calls
 * `resetter.List` and `tcp.Close` of a live client connection: both succeed, and the closed
 * connection gets its one CLOSE. The same for the HTTP control API: 300 idle connections, then
 * GET /health answers.
 */
import { connect, type Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { parseRelayAddress } from "../../src/net/index.js";
import { RpcClient } from "../../src/worker/index.js";
import { within } from "../fixtures/eventually.js";
import { openClient } from "../server/harness.js";
import {
  allClosed,
  chaosConfig,
  closeColumns,
  expectOneCloseEach,
  killEverything,
  secondsSince,
  serve,
  stopServer,
} from "./harness.js";
import { record } from "./ledger.js";

const idle: Socket[] = [];
afterEach(() => {
  for (const socket of idle.splice(0)) socket.destroy();
  killEverything();
});

const CONFIG = chaosConfig({ rpc: true, control: true, workers: 2, destroyTimeout: "5s" });

const IDLE = 300;

/** `count` connections to host:port that never send a byte, each connected when this resolves. */
async function idleConnections(host: string, port: number, count: number): Promise<Socket[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect({ host, port });
          socket.on("error", () => undefined);
          socket.once("connect", () => resolve(socket));
          socket.once("error", reject);
        }),
    ),
  );
  idle.push(...sockets);
  return sockets;
}

it("5 RPC lockout: 300 idle connections to rpc.listen, then tcp.Close and resetter.List succeed", async () => {
  const started = performance.now();
  const served = await serve(CONFIG);
  const rpcAddress = parseRelayAddress(served.rpc!);
  if (rpcAddress.kind !== "tcp") throw new Error(`expected a tcp RPC address, got ${served.rpc}`);
  const client = await openClient(served.port());
  const uuid = await served.recording.uuidOf(client.socket.localPort);
  await idleConnections(rpcAddress.host, rpcAddress.port, IDLE);
  // Each call's result, or what it failed with: the row is recorded either way.
  let list: unknown;
  let closed: unknown;
  try {
    const rpc = await within(RpcClient.connect(served.rpc), { what: "an RPC connection past 300 idle ones" });
    try {
      list = await within(rpc.call("resetter.List", true), { what: "resetter.List to answer" }).catch((e: Error) => e);
      closed = await within(rpc.call("tcp.Close", uuid), { what: "tcp.Close to answer" }).catch((e: Error) => e);
    } finally {
      rpc.close();
    }
  } catch (err) {
    list = closed = err;
  }
  await within(client.ended, { what: "FIN after tcp.Close" }).catch(() => undefined);
  const closes = await allClosed(served.recording, 1, 5_000);
  for (const socket of idle.splice(0)) socket.destroy();
  const { leaked, peakRssMiB } = await stopServer(served);
  record({
    case: "5 RPC lockout (300 idle RPC connections, then 2 real calls)",
    faults: IDLE,
    sent: 2,
    answered: (Array.isArray(list) ? 1 : 0) + (closed === true ? 1 : 0),
    lost: (Array.isArray(list) ? 0 : 1) + (closed === true ? 0 : 1),
    ...closeColumns(closes),
    leaked: leaked.length,
    peakRssMiB,
    seconds: secondsSince(started),
  });
  expect({ list, closed }).toEqual({ list: ["tcp"], closed: true });
  expect(served.recording.log(uuid)).toEqual(["CONNECTED", "CLOSE"]);
  expectOneCloseEach(closes, closes.detail);
  expect(leaked).toEqual([]);
});

it("5 control API lockout: 300 idle connections to control.addr, then GET /health answers", async () => {
  const started = performance.now();
  const served = await serve(CONFIG);
  const address = served.logged("control API listening")!;
  const at = address.lastIndexOf(":");
  const host = address.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(at + 1));
  await idleConnections(host, port, IDLE);
  const response = await within(fetch(`http://${address}/health`), { what: "GET /health past 300 idle connections" });
  const { leaked, peakRssMiB } = await stopServer(served);
  record({
    case: "5 control API lockout (300 idle HTTP connections, then GET /health)",
    faults: IDLE,
    sent: 1,
    answered: response.status === 200 ? 1 : 0,
    leaked: leaked.length,
    peakRssMiB,
    seconds: secondsSince(started),
  });
  expect(response.status).toBe(200);
  expect(leaked).toEqual([]);
});
