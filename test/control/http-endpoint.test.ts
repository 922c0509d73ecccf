/**
 * The HTTP endpoints' connection budget and timeouts (issue 15): a real HttpEndpoint on
 * loopback. Idle connections must never lock probes and scrapers out.
 */
import { connect, type Socket } from "node:net";
import { request } from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { HttpEndpoint, jsonReply, type Route } from "../../src/control/http-endpoint.js";
import { LIMITS } from "../../src/limits.js";
import { eventually, quiet } from "../fixtures/eventually.js";

interface Options {
  connections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

const endpoints: HttpEndpoint[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

async function endpoint(options?: Options) {
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
      done();
    },
  });
  let waiting: Array<() => void> = [];
  const routes: Route[] = [
    { method: "GET", path: "/ping", handle: () => jsonReply(200, { pong: true }) },
    {
      method: "GET",
      path: "/hold",
      handle: () => new Promise((resolve) => waiting.push(() => resolve(jsonReply(200, { held: true })))),
    },
  ];
  // An extra argument before the fix: ignored there, so these tests fail as the issue says.
  const listen = HttpEndpoint.listen as (
    addr: string,
    key: string,
    routes: readonly Route[],
    logger?: unknown,
    options?: Options,
  ) => Promise<HttpEndpoint>;
  const http = await listen("127.0.0.1:0", "control.addr", routes, pino({ level: "info" }, sink), options);
  endpoints.push(http);
  const [host, port] = [http.address.slice(0, http.address.lastIndexOf(":")), Number(http.address.split(":").pop())];
  return {
    http,
    host,
    port,
    warnings,
    holding: () => waiting.length,
    release: () => {
      const now = waiting;
      waiting = [];
      for (const resolve of now) resolve();
    },
  };
}

async function idleConnection(host: string, port: number): Promise<{ socket: Socket; isClosed(): boolean }> {
  const socket = connect({ host, port });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let closed = false;
  socket.on("error", () => undefined);
  socket.on("data", () => undefined);
  socket.once("close", () => (closed = true));
  return { socket, isClosed: () => closed };
}

/** A GET on its own connection (no agent), so each request holds one connection. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HTTP endpoint budget", () => {
  it("answers with 300 idle connections open, closing the oldest idle ones past its budget", async () => {
    expect(LIMITS.httpConnections.value).toBe(128);
    const e = await endpoint();
    const idle: Array<{ socket: Socket; isClosed(): boolean }> = [];
    // One at a time, so the server accepts them in this order.
    for (let i = 0; i < 300; i++) idle.push(await idleConnection(e.host, e.port));
    expect(await get(e.port, "/ping")).toEqual({ status: 200, body: '{"pong":true}\n' });
    // 301 connections for 128 places: the 173 opened first made room.
    await eventually(() => idle.slice(0, 173).every((c) => c.isClosed()), {
      what: "the 173 oldest idle HTTP connections closed",
      detail: () => `closed: ${idle.filter((c) => c.isClosed()).length}`,
    });
    expect(idle.slice(173).filter((c) => c.isClosed())).toHaveLength(0);
  });

  it("never closes a connection in the middle of a request; refuses the new one, with a log line, only when all are", async () => {
    const e = await endpoint({ connections: 2 });
    const held = [get(e.port, "/hold"), get(e.port, "/hold")];
    await eventually(() => e.holding() === 2, { what: "two requests held" });
    const refused = await idleConnection(e.host, e.port);
    await eventually(() => refused.isClosed(), { what: "the third connection refused" });
    expect(
      e.warnings.some((w) =>
        /refusing the HTTP connection .*: 2 are open, every one in the middle of a request/.test(w),
      ),
    ).toBe(true);
    e.release();
    for (const reply of await Promise.all(held)) expect(reply).toEqual({ status: 200, body: '{"held":true}\n' });
  });

  it("closes a connection that sends nothing after the headers timeout, and keeps a slow request's answer", async () => {
    const e = await endpoint({ headersTimeoutMs: 200, requestTimeoutMs: 200, keepAliveTimeoutMs: 200 });
    const silent = await idleConnection(e.host, e.port);
    const held = get(e.port, "/hold");
    await eventually(() => e.holding() === 1, { what: "the request held" });
    await eventually(() => silent.isClosed(), { what: "the silent connection closed after 200 ms" });
    // Shows that something does not happen: the answer takes longer than every timeout.
    await quiet(400);
    e.release();
    expect(await held).toEqual({ status: 200, body: '{"held":true}\n' });
  });
});
