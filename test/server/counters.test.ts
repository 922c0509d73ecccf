/**
 * What a TcpServer counts per named server (events, replies, bytes, closes), what it lists of its
 * open connections, and the event timings it gives its observer: an in-test pool, real sockets.
 */
import { describe, expect, it } from "vitest";
import { TcpOptions, TcpServerOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { TcpResponse } from "../../gen/ts/rr/tcp/v1/tcp.js";
import type { EventPool, EventReply, EventRequest } from "../../src/server/event-pool.js";
import type { ServerObserver } from "../../src/server/server-observer.js";
import { TcpServer } from "../../src/server/tcp-server.js";
import { eventually, within } from "../fixtures/eventually.js";
import { openClient, portOf, RecordingPool, type Answer, type RecordedEvent } from "./harness.js";

function script(e: RecordedEvent): Answer {
  if (e.event !== "DATA") return { verb: TcpResponse.CONTINUE };
  if (e.body === "wclose\r\n") return { verb: TcpResponse.WRITECLOSE, body: "bye\r\n" };
  if (e.body === "fail\r\n") return Object.assign(new Error("an ERROR frame"), { code: "WORKER_ERROR" });
  return { verb: TcpResponse.WRITE, body: e.body };
}

/** Says every event reached a worker, except those that fail (as if no worker took them). */
class WorkerPoolLike implements EventPool {
  constructor(readonly inner: RecordingPool) {}
  exec(request: EventRequest): Promise<EventReply> {
    if (request.body.toString() !== "fail\r\n") request.onWorker?.();
    return this.inner.exec(request);
  }
}

/** Each server's observed (queue, worker) seconds. */
function recordingObserver(): { observer: ServerObserver; seen: Map<string, [number, number | undefined][]> } {
  const seen = new Map<string, [number, number | undefined][]>();
  return {
    seen,
    observer: {
      eventTimings(server) {
        const list: [number, number | undefined][] = [];
        seen.set(server, list);
        return { observe: (queue, worker) => void list.push([queue, worker]) };
      },
    },
  };
}

describe("TcpServer counters, connections and timings", () => {
  it("counts each server's events, replies, bytes and closes exactly, lists open connections, times every event", async () => {
    const recording = new RecordingPool(script);
    const { observer, seen } = recordingObserver();
    const server = await TcpServer.listen({
      pool: new WorkerPoolLike(recording),
      observer,
      tcp: TcpOptions.fromPartial({
        servers: {
          main: TcpServerOptions.fromPartial({ addr: "127.0.0.1:0" }),
          other: TcpServerOptions.fromPartial({ addr: "127.0.0.1:0" }),
        },
      }),
    });
    try {
      const a = await openClient(portOf(server.addresses().main!));
      a.socket.write("hello\r\n");
      await a.receive("hello\r\n");
      a.socket.write("wclose\r\n");
      await within(a.ended, { what: "a's FIN after WRITECLOSE" });
      a.socket.end();
      const b = await openClient(portOf(server.addresses().other!));
      b.socket.write("fail\r\n");
      await within(b.ended, { what: "b closed after its failed event" });
      b.socket.end();
      const c = await openClient(portOf(server.addresses().main!));
      c.socket.write("x\r\n");
      await c.receive("x\r\n");
      await eventually(() => server.counters().main!.open + server.counters().other!.open === 1, {
        what: "a and b done",
      });

      const [listed] = server.connections();
      expect(server.connections()).toHaveLength(1);
      expect(listed).toMatchObject({
        server: "main",
        remote_addr: `127.0.0.1:${c.socket.localPort}`,
        bytes_received: 3,
        bytes_sent: 3,
      });
      expect(listed!.uuid).toBe(server.connectionIds()[0]);
      expect(listed!.age!.seconds).toBeLessThan(60);

      c.socket.end();
      await eventually(() => server.counters().main!.open === 0, { what: "c done" });
      expect(server.counters()).toEqual({
        main: {
          accepted: 2,
          rejected: 0,
          proxyRefused: {},
          tlsHandshakeFailures: 0,
          open: 0,
          closed: { VERB_WRITECLOSE: 1, CLIENT_EOF: 1 },
          events: { connected: 2, data: 3, close: 2 },
          replies: { write: 2, writeclose: 1, continue: 4, close: 0, unknown: 0, error: 0 },
          bytesReceived: "hello\r\nwclose\r\nx\r\n".length,
          bytesSent: "hello\r\nbye\r\nx\r\n".length,
          pushes: { taken: 0, closing: 0, not_reading: 0 },
          bytesPushed: 0,
        },
        other: {
          accepted: 1,
          rejected: 0,
          proxyRefused: {},
          tlsHandshakeFailures: 0,
          open: 0,
          closed: { EXEC_FAILED: 1 },
          events: { connected: 1, data: 1, close: 1 },
          replies: { write: 0, writeclose: 0, continue: 2, close: 0, unknown: 0, error: 1 },
          bytesReceived: "fail\r\n".length,
          bytesSent: 0,
          pushes: { taken: 0, closing: 0, not_reading: 0 },
          bytesPushed: 0,
        },
      });
      // One timing per event; the failed one never reached a worker.
      expect(seen.get("main")).toHaveLength(7);
      expect(seen.get("main")!.every(([queue, worker]) => queue >= 0 && worker !== undefined && worker >= 0)).toBe(
        true,
      );
      expect(seen.get("other")!.map(([, worker]) => worker === undefined)).toEqual([false, true, false]);
    } finally {
      await server.shutdown(1000);
    }
  });

  it("reads no clock without an observer, and gives the pool no onWorker", async () => {
    const requests: EventRequest[] = [];
    const pool: EventPool = {
      exec: (request) => {
        requests.push({ ...request });
        return Promise.resolve({ context: Buffer.from("CONTINUE"), body: Buffer.alloc(0), flags: 0, pid: 1 });
      },
    };
    const server = await TcpServer.listen({
      pool,
      tcp: TcpOptions.fromPartial({ servers: { main: TcpServerOptions.fromPartial({ addr: "127.0.0.1:0" }) } }),
    });
    try {
      const client = await openClient(portOf(server.addresses().main!));
      client.socket.end();
      await eventually(() => requests.length === 2, { what: "CONNECTED and CLOSE" });
      expect(requests.map((r) => r.onWorker)).toEqual([undefined, undefined]);
    } finally {
      await server.shutdown(1000);
    }
  });
});
