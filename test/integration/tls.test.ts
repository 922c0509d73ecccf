/**
 * TLS servers end to end (docs/tls.md): real sockets on 127.0.0.1, node:tls clients, the real
 * pool and recording workers, certificates made here with openssl. The handshake happens before
 * CONNECTED; the worker sees the same context and the decrypted bytes; a client that fails the
 * handshake never reaches a worker; a reset reloads the certificate for new connections.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as plainConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, within } from "../fixtures/eventually.js";
import { settled, startService, type RunningService } from "./harness.js";

const dir = mkdtempSync(join(tmpdir(), "rr-tcp-tls-"));
const file = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A self-signed server certificate for localhost and 127.0.0.1, written to `<name>.pem`/`.key`. */
function selfSigned(name: string, cn: string): void {
  openssl(
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${cn}`,
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ); // prettier-ignore
}

let rr: RunningService;

beforeAll(async () => {
  selfSigned("server", "rr-tcp test server");
  selfSigned("renewed", "rr-tcp test server, renewed");
  // A CA and a client certificate it signs, for client_auth: require.
  selfSigned("ca", "rr-tcp test CA");
  openssl(
    "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=a client",
  ); // prettier-ignore
  openssl(
    "x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
    "-out", "client.pem", "-days", "2",
  ); // prettier-ignore
  copyFileSync(file("server.pem"), file("live.pem"));
  copyFileSync(file("server.key"), file("live.key"));
  rr = await startService(`
version: "3"
server:
  command: \${WORKER_CMD}
  env:
    RECORD_FILE: \${RECORD_FILE}
tcp:
  servers:
    secure: { addr: "127.0.0.1:0", tls: { cert: "${file("live.pem")}", key: "${file("live.key")}", handshake_timeout: 2s } }
    mutual:
      addr: "127.0.0.1:0"
      tls: { cert: "${file("server.pem")}", key: "${file("server.key")}", ca: "${file("ca.pem")}", client_auth: require }
  pool:
    num_workers: 2
    allocate_timeout: 20s
    destroy_timeout: 5s
control:
  addr: 127.0.0.1:0
`);
});
afterAll(async () => {
  await rr?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await settled(rr.service, 2);
});

/** A TLS client that trusts `ca` (the self-signed server certificate by default). */
function tlsClient(server: string, options: { ca?: string; cert?: string; key?: string } = {}): Promise<TLSSocket> {
  const socket = connect({
    host: "127.0.0.1",
    port: rr.port(server),
    servername: "localhost",
    ca: readFileSync(file(options.ca ?? "server.pem")),
    ...(options.cert && { cert: readFileSync(file(options.cert)), key: readFileSync(file(options.key!)) }),
  });
  return new Promise((resolve, reject) => {
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Sends `line` and resolves with what comes back until `until` has been received. */
function exchange(socket: TLSSocket, line: string, until = line): Promise<string> {
  let got = "";
  const arrived = new Promise<string>((resolve) => {
    const onData = (chunk: Buffer): void => {
      got += chunk.toString();
      if (got.includes(until)) {
        socket.off("data", onData);
        resolve(got);
      }
    };
    socket.on("data", onData);
  });
  socket.write(line);
  return within(arrived, { what: JSON.stringify(until), detail: () => JSON.stringify(got) });
}

const failures = (server: string): number => rr.service.server.counters()[server]!.tlsHandshakeFailures;

describe("a TLS server", () => {
  it("serves a TLS client: the worker sees the decrypted bytes and the usual context", async () => {
    const socket = await tlsClient("secure");
    expect(await exchange(socket, "hello\r\n")).toBe("hello\r\n");
    const connected = await rr.recording.until(
      (all) => all.find((r) => r.event === "CONNECTED" && r.remote_addr === `127.0.0.1:${socket.localPort}`),
      "its CONNECTED",
    );
    expect(connected.server).toBe("secure");
    expect(rr.recording.log(connected.uuid)).toEqual(["CONNECTED", "DATA:hello\r\n"]);
    socket.end();
    await eventually(() => rr.recording.log(connected.uuid).at(-1) === "CLOSE", { what: "its CLOSE event" });
  });

  it("a client that speaks plain TCP fails the handshake: closed, counted, no events", async () => {
    const before = failures("secure");
    const eventsBefore = rr.recording.all().length;
    const socket = plainConnect({ host: "127.0.0.1", port: rr.port("secure") });
    socket.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write("hello\r\n");
    await within(closed, { what: "the server closing it" });
    await eventually(() => failures("secure") === before + 1, { what: "the handshake failure counted" });
    expect(rr.recording.all().slice(eventsBefore)).toEqual([]);
  });

  it("a client that never starts its handshake is closed after handshake_timeout", async () => {
    const before = failures("secure");
    const socket = plainConnect({ host: "127.0.0.1", port: rr.port("secure") });
    socket.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await within(closed, { timeout: 15_000, what: "the close after handshake_timeout (2s)" });
    expect(failures("secure")).toBe(before + 1);
  });

  it("client_auth require: refused without a client certificate, served with one the CA signed", async () => {
    const before = failures("mutual");
    // TLS 1.3: the client's handshake completes before the server has checked its certificate;
    // the refusal arrives as an alert, and the connection ends without an answer.
    await tlsClient("mutual").then(
      (socket) =>
        new Promise<string>((resolve) => {
          socket.on("error", (err) => resolve(String((err as NodeJS.ErrnoException).code)));
          socket.on("close", () => resolve("closed"));
          socket.write("let me in\r\n");
        }),
      (err: NodeJS.ErrnoException) => String(err.code),
    );
    await eventually(() => failures("mutual") === before + 1, { what: "the handshake failure counted" });
    expect(rr.recording.all().filter((r) => r.server === "mutual")).toEqual([]);
    const socket = await tlsClient("mutual", { cert: "client.pem", key: "client.key" });
    expect(await exchange(socket, "with a certificate\r\n")).toBe("with a certificate\r\n");
    socket.destroy();
  });

  it("a reset reloads the certificate: new connections get the new one, open ones go on", async () => {
    const open = await tlsClient("secure");
    expect(open.getPeerCertificate().subject.CN).toBe("rr-tcp test server");
    copyFileSync(file("renewed.pem"), file("live.pem"));
    copyFileSync(file("renewed.key"), file("live.key"));
    const control = rr.service.control!.address;
    const reset = await fetch(`http://${control}/reset`, { method: "POST" });
    expect(reset.status).toBe(200);
    const renewed = await tlsClient("secure", { ca: "renewed.pem" });
    expect(renewed.getPeerCertificate().subject.CN).toBe("rr-tcp test server, renewed");
    expect(await exchange(open, "still here\r\n")).toBe("still here\r\n");
    // A broken file: the reload says so, and the certificate in use stays.
    writeFileSync(file("live.pem"), "not a certificate");
    const errors = rr.service.server.reloadCertificates();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^tcp\.servers\.secure\.tls: cannot use /)]);
    const after = await tlsClient("secure", { ca: "renewed.pem" });
    expect(await exchange(after, "ok\r\n")).toBe("ok\r\n");
    for (const socket of [open, renewed, after]) socket.destroy();
  });
});
