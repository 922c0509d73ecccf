/**
 * `proxy_protocol: true` end to end (docs/proxy-protocol.md): real sockets on 127.0.0.1, the real
 * pool and recording workers. The header is read before CONNECTED, so the context's remote_addr
 * is the client's from it; a connection without a valid header, or from an untrusted source,
 * never reaches a worker and is counted by problem.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, within } from "../fixtures/eventually.js";
import { openClient } from "../server/harness.js";
import { settled, startService, type RunningService } from "./harness.js";

const CONFIG = `
version: "3"
server:
  command: \${WORKER_CMD}
  env:
    RECORD_FILE: \${RECORD_FILE}
tcp:
  servers:
    proxied: { addr: "127.0.0.1:0", proxy_protocol: true, proxy_header_timeout: 2s }
    strict: { addr: "127.0.0.1:0", proxy_protocol: true, proxy_trusted: ["10.0.0.0/8", "::1/128"] }
    plain: { addr: "127.0.0.1:0" }
  pool:
    num_workers: 2
    allocate_timeout: 20s
    destroy_timeout: 5s
`;

const SIGNATURE = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

let rr: RunningService;
beforeAll(async () => {
  rr = await startService(CONFIG);
});
afterAll(async () => {
  await rr?.stop();
});
beforeEach(async () => {
  await settled(rr.service, 2);
});

/** A raw client: everything it received, and a promise of its close. */
async function rawClient(server: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect({ port: rr.port(server), host: "127.0.0.1" });
  let data = "";
  socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  return { socket, received: () => data, closed };
}

/** Writes `bytes` one byte per write, each after the previous one left (a header split every way). */
async function dribble(socket: Socket, bytes: Buffer): Promise<void> {
  for (const byte of bytes) {
    await new Promise<void>((resolve, reject) =>
      socket.write(Buffer.from([byte]), (err) => (err ? reject(err) : resolve())),
    );
  }
}

const refused = (server: string): Record<string, number | undefined> =>
  rr.service.server.counters()[server]!.proxyRefused;

/** The CONNECTED event whose remote_addr is `addr`, once recorded. */
function connectedFrom(addr: string) {
  return rr.recording.until(
    (all) => all.find((r) => r.event === "CONNECTED" && r.remote_addr === addr),
    `CONNECTED from ${addr}`,
  );
}

describe("a server with proxy_protocol", () => {
  it("v1, one byte per write: CONNECTED carries the client's address, the bytes after the header are its first DATA", async () => {
    const client = await rawClient("proxied");
    await dribble(client.socket, Buffer.from("PROXY TCP4 203.0.113.9 192.0.2.1 41234 7000\r\nhel"));
    client.socket.write("lo\r\n");
    const connected = await connectedFrom("203.0.113.9:41234");
    expect(connected.server).toBe("proxied");
    await eventually(() => client.received() === "hello\r\n", { what: "the echo", detail: client.received });
    expect(rr.recording.log(connected.uuid)).toEqual(["CONNECTED", "DATA:hello\r\n"]);
    client.socket.end();
    await within(client.closed, { what: "the close" });
    await eventually(() => rr.recording.log(connected.uuid).at(-1) === "CLOSE", { what: "its CLOSE event" });
  });

  it("v2 with an IPv6 client, header and data in one write: the address as Go prints it", async () => {
    const block = Buffer.alloc(36);
    Buffer.from("20010db8000000000000000000000abc", "hex").copy(block, 0);
    block[31] = 1; // destination ::1
    block.writeUInt16BE(50000, 32);
    block.writeUInt16BE(7000, 34);
    const header = Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x21, 0, 36]), block]);
    const client = await rawClient("proxied");
    client.socket.write(Buffer.concat([header, Buffer.from("six\r\n")]));
    const connected = await connectedFrom("[2001:db8::abc]:50000");
    await eventually(() => client.received() === "six\r\n", { what: "the echo", detail: client.received });
    expect(rr.recording.log(connected.uuid)).toEqual(["CONNECTED", "DATA:six\r\n"]);
    client.socket.destroy();
  });

  it("v2 LOCAL (the balancer's own health check): the socket's own address", async () => {
    const client = await rawClient("proxied");
    client.socket.write(Buffer.concat([SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])]));
    const connected = await connectedFrom(`127.0.0.1:${client.socket.localPort}`);
    expect(connected.server).toBe("proxied");
    client.socket.destroy();
  });

  it.each([
    ["missing", Buffer.from("hello\r\n"), "missing"],
    ["malformed", Buffer.from("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n"), "malformed"],
    ["oversized", Buffer.from(`PROXY TCP4 ${"9".repeat(120)}`), "oversized"],
  ])("a %s header closes the connection before any event, counted", async (_what, bytes, problem) => {
    const before = refused("proxied")[problem] ?? 0;
    const eventsBefore = rr.recording.all().length;
    const client = await rawClient("proxied");
    client.socket.write(bytes);
    await within(client.closed, { what: "the server closing it" });
    await eventually(() => refused("proxied")[problem] === before + 1, { what: `proxy_refused.${problem}` });
    expect(client.received()).toBe("");
    expect(
      rr.recording
        .all()
        .slice(eventsBefore)
        .filter((r) => r.server === "proxied"),
    ).toEqual([]);
  });

  it("a header that never completes is closed after proxy_header_timeout", async () => {
    const before = refused("proxied").timeout ?? 0;
    const client = await rawClient("proxied");
    client.socket.write("PROXY TCP4 1.2.3.4");
    await within(client.closed, { timeout: 15_000, what: "the close after proxy_header_timeout (2s)" });
    expect(refused("proxied").timeout).toBe(before + 1);
  });

  it("a peer outside proxy_trusted is refused before anything it sends is read", async () => {
    const before = refused("strict").untrusted ?? 0;
    const client = await rawClient("strict");
    client.socket.write("PROXY TCP4 10.1.2.3 10.0.0.1 1000 7000\r\nhi\r\n");
    await within(client.closed, { what: "the server closing it" });
    await eventually(() => refused("strict").untrusted === before + 1, { what: "proxy_refused.untrusted" });
    expect(rr.recording.all().filter((r) => r.server === "strict")).toEqual([]);
  });

  it("a server without it passes a PROXY line through as data, and its address is the socket's", async () => {
    const client = await openClient(rr.port("plain"));
    client.socket.write("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
    await client.receive("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
    await connectedFrom(`127.0.0.1:${client.socket.localPort}`);
    client.socket.destroy();
  });
});
