/**
 * tcp.max_buffered_bytes bounds what all connections together hold from their clients: one
 * client opening many connections cannot grow the server's memory without bound. Real sockets,
 * real workers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, openClient, within } from "../server/harness.js";
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
    await eventually(() => server.bufferedBytes() === 60_000, "60000 bytes of a held");
    const b = await openClient(rr.port("main"));
    b.socket.write("b".repeat(30_000));
    await eventually(() => server.bufferedBytes() === 90_000, "30000 bytes of b held too");

    const c = await openClient(rr.port("main"));
    c.socket.write("c".repeat(50_000)); // 140000 > 100000: a, holding the most, is closed
    await within(a.ended, "FIN to the connection holding the most");
    await eventually(() => !server.connectionIds().includes(uuidA), "a's CLOSE event answered");
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
});
