/**
 * End to end: the rr-tcp command (src/cli.ts) serving real TCP clients with a pool of echo workers
 * written in TypeScript, Python and Go, in both context modes. The same client test runs against
 * every pool, the TypeScript echo worker being the reference the others must match.
 *
 * A worker that decodes the context wrongly fails here visibly: a JSON decoder given protobuf
 * bytes answers with an ERROR frame (the server then drops the client), and a wrong event makes
 * DATA look like something else, so nothing is echoed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { eventually, scaled, within } from "../fixtures/eventually.js";
import { freePort } from "../fixtures/free-port.js";
import { REPO_ROOT, workerCommands } from "./toolchain.js";

const NUM_WORKERS = 2;

/** One rr-tcp process, started from a temporary .rr.yaml. */
class RrTcp {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #dir: string;
  #output = "";
  #exit: Promise<number | null>;

  private constructor(port: number, dir: string, child: ChildProcess) {
    this.port = port;
    this.#dir = dir;
    this.#child = child;
    child.stdout?.on("data", (chunk: Buffer) => (this.#output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.#output += chunk.toString()));
    this.#exit = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  static async start(
    command: readonly string[],
    env: NodeJS.ProcessEnv,
    codec: "json" | "proto",
    relay: "pipes" | "tcp" | "unix" = "pipes",
  ): Promise<RrTcp> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "rr-tcp-e2e-"));
    const relayAddress =
      relay === "pipes"
        ? "pipes"
        : relay === "tcp"
          ? `tcp://127.0.0.1:${await freePort()}`
          : `unix://${join(dir, "relay.sock")}`;
    const config = join(dir, ".rr.yaml");
    writeFileSync(
      config,
      stringify({
        version: "3",
        server: { command: [...command], relay: relayAddress },
        tcp: {
          servers: { echo: { addr: `127.0.0.1:${port}`, delimiter: "\r\n" } },
          pool: { num_workers: NUM_WORKERS, allocate_timeout: "20s", destroy_timeout: "5s" },
          context_codec: codec,
        },
        logs: { level: "info" },
      }),
    );
    // The CLI as `npx tsx src/cli.ts serve` runs it, minus npx's extra processes: one process to
    // signal and to wait for.
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/cli.ts"), "serve", "-c", config], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const rr = new RrTcp(port, dir, child);
    await rr.#waitForPort();
    return rr;
  }

  get output(): string {
    return this.#output;
  }

  async #waitForPort(): Promise<void> {
    let exited = false;
    void this.#exit.then(() => (exited = true));
    let up = false;
    await eventually(
      async () => {
        if (exited) return true;
        // A probe connection is a real client: CONNECTED, then CLOSE when it goes, both answered
        // by a worker, so it also shows the pool is up.
        up = await new Promise<boolean>((resolve) => {
          const probe = connect(this.port, "127.0.0.1");
          probe.once("connect", () => {
            probe.destroy();
            resolve(true);
          });
          probe.once("error", () => resolve(false));
        });
        return up;
      },
      {
        timeout: 30_000,
        what: `rr-tcp to listen on 127.0.0.1:${this.port}`,
        detail: () => `its output:\n${this.#output}`,
      },
    );
    if (!up)
      throw new Error(`rr-tcp exited before it listened on 127.0.0.1:${this.port}; its output:\n${this.#output}`);
  }

  /** SIGTERM (graceful stop), SIGKILL after 10 s (scaled); resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), scaled(10_000));
    try {
      return await this.#exit;
    } finally {
      clearTimeout(timer);
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }
}

/** A TCP client that collects what it receives and notices when the server closes. */
class Client {
  readonly socket: Socket;
  #received = Buffer.alloc(0);
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#received = Buffer.concat([this.#received, chunk]);
    });
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
  }

  static connect(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => resolve(new Client(socket)));
      socket.once("error", reject);
    });
  }

  /** Waits until `n` bytes have arrived in total and returns them all. */
  async receive(n: number, timeoutMs = 10_000): Promise<string> {
    await eventually(() => this.#received.length >= n, {
      timeout: timeoutMs,
      what: `${n} bytes`,
      detail: () => `received ${JSON.stringify(this.#received.toString())}`,
    });
    return this.#received.toString();
  }

  get received(): string {
    return this.#received.toString();
  }

  async send(text: string): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.write(text, (err) => (err ? reject(err) : resolve())));
  }
}

type WorkerLanguage = "typescript" | "python" | "go";

/** Sends quit; the server answers bye and closes, and the client got `all` in total. */
async function quitAndExpect(client: Client, all: string): Promise<void> {
  await client.send("quit\r\n");
  await within(client.closed, {
    timeout: 10_000,
    what: "the server to close after quit",
    detail: () => `received ${JSON.stringify(client.received)}`,
  });
  expect(client.received).toBe(all);
}

function commandFor(language: WorkerLanguage): { command: string[]; env: NodeJS.ProcessEnv } {
  if (language === "typescript") {
    // tsx by absolute URL: workers run in the config's folder, where `--import tsx` would not resolve.
    return {
      command: [process.execPath, "--import", import.meta.resolve("tsx"), join(REPO_ROOT, "examples/echo-worker.ts")],
      env: process.env,
    };
  }
  const { echo, env } = workerCommands(language);
  return { command: echo, env };
}

for (const language of ["typescript", "python", "go"] as const) {
  for (const codec of ["json", "proto"] as const) {
    describe(`rr-tcp with a pool of ${NUM_WORKERS} ${language} echo workers, context_codec: ${codec}`, () => {
      let rr: RrTcp | undefined;

      beforeAll(async () => {
        const { command, env } = commandFor(language);
        rr = await RrTcp.start(command, env, codec);
      }, scaled(240_000));

      afterAll(async () => {
        const code = await rr?.stop();
        expect(code, `rr-tcp's exit after SIGTERM; its output:\n${rr?.output}`).toBe(0);
      }, scaled(30_000));

      it("echoes each message, answers quit with bye and closes the connection", async () => {
        const client = await Client.connect(rr!.port);
        await client.send("hello\r\n");
        expect(await client.receive(7)).toBe("hello\r\n");
        await client.send("ping 1 2 3\r\n");
        expect(await client.receive(19)).toBe("hello\r\nping 1 2 3\r\n");
        await quitAndExpect(client, "hello\r\nping 1 2 3\r\nbye\r\n");
      });

      it("acknowledges CLOSE: more client-closed connections than workers, one after another, all served", async () => {
        // The server waits for the reply to every CLOSE event; a worker that did not answer
        // would stay busy for good, and with NUM_WORKERS of them stuck the next client would
        // never be echoed.
        for (let i = 0; i < NUM_WORKERS * 2 + 1; i++) {
          const client = await Client.connect(rr!.port);
          await client.send(`round ${i}\r\n`);
          expect(await client.receive(`round ${i}\r\n`.length)).toBe(`round ${i}\r\n`);
          client.socket.end();
          await within(client.closed, { timeout: 10_000, what: `connection ${i} to close` });
        }
        const last = await Client.connect(rr!.port);
        await last.send("still served\r\n");
        expect(await last.receive(14)).toBe("still served\r\n");
        last.socket.destroy();
      });

      it("serves clients at the same time", async () => {
        const clients = await Promise.all(Array.from({ length: 4 }, () => Client.connect(rr!.port)));
        await Promise.all(clients.map((c, i) => c.send(`client ${i}\r\n`)));
        expect(await Promise.all(clients.map((c, i) => c.receive(`client ${i}\r\n`.length)))).toEqual(
          clients.map((_, i) => `client ${i}\r\n`),
        );
        await Promise.all(clients.map((c) => c.send("quit\n\r\n")));
        // "quit\n\r\n" is not quit (only one line ending is stripped): echoed, connection stays.
        expect(await Promise.all(clients.map((c, i) => c.receive(`client ${i}\r\nquit\n\r\n`.length)))).toEqual(
          clients.map((_, i) => `client ${i}\r\nquit\n\r\n`),
        );
        clients.forEach((c) => c.socket.destroy());
      });
    });
  }
}

// The socket relays: rr-tcp listens, each worker connects to RR_RELAY and is matched to the
// process rr-tcp spawned by the pid it reports in the handshake.
for (const language of ["python", "go"] as const) {
  for (const relay of ["tcp", "unix"] as const) {
    describe(`rr-tcp with ${language} echo workers on the ${relay} relay`, () => {
      let rr: RrTcp | undefined;

      beforeAll(async () => {
        const { command, env } = commandFor(language);
        rr = await RrTcp.start(command, env, "proto", relay);
      }, scaled(240_000));

      afterAll(async () => {
        expect(await rr?.stop(), `rr-tcp's output:\n${rr?.output}`).toBe(0);
      }, scaled(30_000));

      it("echoes, answers quit with bye and closes", async () => {
        const client = await Client.connect(rr!.port);
        await client.send("over a socket\r\n");
        expect(await client.receive(15)).toBe("over a socket\r\n");
        await quitAndExpect(client, "over a socket\r\nbye\r\n");
      });
    });
  }
}
