/**
 * The accept queue: rr-tcp listens with the kernel's limit (somaxconn), as Go does, so a burst of
 * 2,000 connections at once neither overflows it nor makes the kernel fall back to SYN cookies.
 * With Node's default (511) the same burst overflowed the queue about 1,950 times here.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { listenBacklog, listenOn } from "../../src/net/index.js";

const open: Socket[] = [];
let server: Server | undefined;
afterEach(() => {
  for (const socket of open.splice(0)) socket.destroy();
  server?.close();
  server = undefined;
});

/** Kernel-wide TCP counters (/proc/net/netstat, TcpExt). */
function tcpExt(name: string): number {
  const lines = readFileSync("/proc/net/netstat", "latin1").split("\n");
  const at = lines.findIndex((line) => line.startsWith("TcpExt:"));
  const names = lines[at]!.split(" ");
  const values = lines[at + 1]!.split(" ");
  return Number(values[names.indexOf(name)]);
}

describe.runIf(process.platform === "linux")("listen backlog", () => {
  it("is net.core.somaxconn, capped at 65535", () => {
    const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "latin1"));
    expect(listenBacklog()).toBe(Math.min(somaxconn, 65_535));
  });

  it("is what the listening socket has (ss's Send-Q)", async () => {
    server = createServer();
    const bound = await listenOn(server, { kind: "tcp", host: "127.0.0.1", port: 0 }, { key: "test", shown: "test" });
    const port = bound.kind === "tcp" ? bound.port : 0;
    const line = execFileSync("ss", ["-Hltn", `sport = :${port}`], { encoding: "latin1" }).trim();
    expect(line.split(/\s+/)[2], line).toBe(String(listenBacklog()));
  });

  it("2,000 connections at once are all accepted without a listen overflow", async () => {
    const accepted: Socket[] = [];
    server = createServer((socket) => {
      accepted.push(socket);
      open.push(socket);
    });
    const bound = await listenOn(server, { kind: "tcp", host: "127.0.0.1", port: 0 }, { key: "test", shown: "test" });
    const port = bound.kind === "tcp" ? bound.port : 0;
    const overflows = tcpExt("ListenOverflows");
    const cookies = tcpExt("SyncookiesSent");
    await Promise.all(
      Array.from(
        { length: 2_000 },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = connect(port, "127.0.0.1", () => resolve());
            socket.on("error", reject);
            open.push(socket);
          }),
      ),
    );
    // Counters of the whole machine: another test's overflow would show here too, none bursts so.
    expect({ overflows: tcpExt("ListenOverflows") - overflows, cookies: tcpExt("SyncookiesSent") - cookies }).toEqual({
      overflows: 0,
      cookies: 0,
    });
  });
});
