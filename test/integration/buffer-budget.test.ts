/**
 * tcp.max_buffered_bytes bounds what all connections together hold from their clients: one
 * client opening many connections cannot grow the server's memory without bound. Real sockets,
 * real workers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, quiet, scaled, within } from "../fixtures/eventually.js";
import { openClient } from "../server/harness.js";
import { startService, type RunningService } from "./harness.js";

const CONFIG = `
server:
  command: \${WORKER_CMD}
  env:
    RECORD_FILE: \${RECORD_FILE}
tcp:
  max_buffered_bytes: 100000
  servers:
    main: { addr: "127.0.0.1:0", max_message_size: 1048576 }
  pool: { num_workers: 1, destroy_timeout: 5s }
`;

let rr: RunningService;
beforeAll(async () => {
  rr = await startService(CONFIG);
});
afterAll(async () => {
  await rr?.stop();
});

describe("tcp.max_buffered_bytes", () => {
  it("closes the connection holding the most once all together hold more; the others go on", async () => {
    const server = rr.service.server;
    const a = await openClient(rr.port("main"));
    const uuidA = await rr.recording.uuidOf(a.socket.localPort!);
    a.socket.write("a".repeat(60_000));
    await eventually(() => server.bufferedBytes() === 60_000, { what: "60000 bytes of a held" });
    const b = await openClient(rr.port("main"));
    b.socket.write("b".repeat(30_000));
    await eventually(() => server.bufferedBytes() === 90_000, { what: "30000 bytes of b held too" });

    const c = await openClient(rr.port("main"));
    c.socket.write("c".repeat(50_000)); // 140000 > 100000: a, holding the most, is closed
    await within(a.ended, { what: "FIN to the connection holding the most" });
    await eventually(() => !server.connectionIds().includes(uuidA), { what: "a's CLOSE event answered" });
    expect(rr.recording.log(uuidA)).toEqual(["CONNECTED", "CLOSE"]);
    expect(server.bufferedBytes()).toBe(80_000);

    b.socket.write("\r\n");
    await b.receive("b".repeat(30_000) + "\r\n");
    c.socket.write("\r\n");
    await c.receive("c".repeat(50_000) + "\r\n");
    expect(server.bufferedBytes()).toBe(0);
    b.socket.end();
    c.socket.end();
  });

  it("drops what a closed connection still sends while its event is with a worker", async () => {
    // Two workers: b's events do not wait behind a's.
    const own = await startService(CONFIG.replace("num_workers: 1", "num_workers: 2"));
    try {
      const server = own.service.server;
      const a = await openClient(own.port("main"));
      const uuidA = await own.recording.uuidOf(a.socket.localPort!);
      // The worker holds a's event for 3 s (scaled), longer than all that follows until a's FIN.
      const slow = `slow:${scaled(3000)}\r\n`;
      a.socket.write(slow);
      await own.recording.until((all) => all.some((r) => r.uuid === uuidA && r.event === "DATA"), "a's DATA");
      // a streams without a delimiter and without pause: the server holds one read of it, the
      // rest waits in the kernel, since a's event is with a worker.
      let pumping = true;
      const chunk = Buffer.alloc(1 << 16, "a");
      const pump = () => {
        while (pumping && a.socket.writable && a.socket.write(chunk));
      };
      a.socket.on("drain", pump);
      pump();
      await eventually(() => server.bufferedBytes() > 0, { what: "a read of a's stream held" });
      const b = await openClient(own.port("main"));
      b.socket.write("b".repeat(40_000)); // over the limit: a, holding the most, is closed
      await eventually(() => server.bufferedBytes() === 40_000, { what: "a closed by the budget" });
      // What a sends for a while after that is read and dropped, not held until its event
      // returns (a loop of evictions once held 2.7 GB here in 3 s).
      await quiet(500);
      expect(server.connectionIds()).toContain(uuidA);
      expect(server.retainedBytes()).toBeLessThan(1 << 20);
      pumping = false;
      await within(a.ended, { what: "FIN to a" });
      await eventually(() => !server.connectionIds().includes(uuidA), {
        timeout: 5_000,
        what: "a done after its event",
      });
      expect(own.recording.log(uuidA)).toEqual(["CONNECTED", `DATA:${slow}`, "CLOSE"]);
      b.socket.end();
    } finally {
      await own.stop();
    }
  });

  it("keeps no large buffer alive for a small unfinished message", async () => {
    const server = rr.service.server;
    await eventually(() => server.bufferedBytes() === 0, { what: "the earlier tests' connections gone" });
    const clients = [];
    for (let i = 0; i < 3; i++) {
      // A 40 kB message and the first byte of the next, in one write.
      const c = await openClient(rr.port("main"));
      c.socket.write("m".repeat(40_000) + "\r\nX");
      await eventually(() => c.received().length === 40_002, { what: "the 40 kB echo" });
      clients.push(c);
    }
    await eventually(() => server.bufferedBytes() === 3, { what: "one byte held per connection" });
    // Without the copy each would pin the buffer its message was read into (40 kB to 64 kB each).
    expect(server.retainedBytes()).toBeLessThan(3 * 16 * 1024);
    for (const c of clients) c.socket.end();
  });
});
