/**
 * A unix socket another running server listens on is never taken over (it used to be
 * unlinked and listened on again, cutting the first server off without a word); a stale one left
 * by a process that died is still replaced. For the TCP server's listeners and goridge's relay
 * listener alike.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TcpOptions, TcpServerOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { ListenError } from "../../src/net/index.js";
import { SocketRelayListener } from "../../src/relay/index.js";
import { TcpServer } from "../../src/server/tcp-server.js";
import { within } from "../fixtures/eventually.js";
import { RecordingPool } from "./harness.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-sock-"));
  dirs.push(dir);
  return join(dir, "rr.sock");
}

function server(addr: string): Promise<TcpServer> {
  return TcpServer.listen({
    pool: new RecordingPool(),
    tcp: TcpOptions.fromPartial({ servers: { main: TcpServerOptions.fromPartial({ addr }) } }),
  });
}

/** Sends `message` over the unix socket at `path` and resolves with what comes back before the server's FIN. */
function roundTrip(path: string, message: string): Promise<string> {
  const socket = createConnection({ path, allowHalfOpen: true });
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
  socket.end(message);
  return within(
    new Promise<string>((resolve, reject) => {
      socket.once("end", () => resolve(received));
      socket.once("error", reject);
    }),
    { what: `a reply on ${path}` },
  );
}

/** Leaves a socket file behind: a process that dies (SIGKILL) while listening on `path`. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, [
    "-e",
    `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await new Promise((resolve) => child.once("exit", resolve));
  expect(statSync(path).isSocket()).toBe(true);
}

describe("unix socket files", () => {
  it("TcpServer: a second server on a live socket fails with EADDRINUSE; the first keeps serving", async () => {
    const path = socketPath();
    const first = await server(`unix://${path}`);
    try {
      await expect(server(`unix://${path}`)).rejects.toMatchObject({
        code: "LISTEN_FAILED",
        message: expect.stringContaining(`cannot listen on unix://${path}: EADDRINUSE`),
      });
      expect(await roundTrip(path, "still mine\r\n")).toBe("still mine\r\n");
    } finally {
      await first.shutdown(1000);
    }
  });

  it("TcpServer: a socket path in a folder that does not exist says so (libuv says EACCES)", async () => {
    const path = join(socketPath(), "..", "no-such-folder", "x.sock");
    await expect(server(`unix://${path}`)).rejects.toMatchObject({
      code: "LISTEN_FAILED",
      message: expect.stringMatching(
        /cannot listen on unix:\/\/.*x\.sock: ENOENT the folder .*no-such-folder does not exist/,
      ),
    });
  });

  it("TcpServer: a stale socket file is replaced", async () => {
    const path = socketPath();
    await staleSocket(path);
    const replaced = await server(`unix://${path}`);
    try {
      expect(await roundTrip(path, "new\r\n")).toBe("new\r\n");
    } finally {
      await replaced.shutdown(1000);
    }
  });

  it("SocketRelayListener: a live relay socket is refused with EADDRINUSE, a stale one replaced", async () => {
    const path = socketPath();
    const first = await SocketRelayListener.listen({ kind: "unix", path });
    try {
      const err = await SocketRelayListener.listen({ kind: "unix", path }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ListenError);
      expect((err as Error).message).toContain(`server.relay: cannot listen on unix://${path}: EADDRINUSE`);
      expect(statSync(path).isSocket()).toBe(true);
    } finally {
      await first.close();
    }
    await staleSocket(path);
    const second = await SocketRelayListener.listen({ kind: "unix", path });
    await second.close();
  });
});
