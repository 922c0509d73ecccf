/**
 * The benchmark's C programs (scripts/bench/c): compiled as the bench compiles them, the echo
 * worker spoken to frame by frame (its handshake offers event ids and it echoes them), the
 * forwarder and rr-tcp each serving a real TCP client with them (messages end in "\r\n", both
 * servers' delimiter).
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildC, startCForwarder, type CBuild } from "../../scripts/bench/c-floor.js";
import { encodeFrame as frame } from "../../src/goridge/index.js";
import { startService } from "../integration/harness.js";

let build: CBuild | string;
beforeAll(() => {
  build = buildC();
});
afterAll(() => {
  if (typeof build !== "string") build.remove();
});

/** Sends `line` on a new connection to `port` and resolves with what comes back first. */
function echoOnce(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(line));
    let got = "";
    socket.on("data", (chunk) => {
      got += chunk.toString();
      if (got.length >= line.length) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on("error", reject);
  });
}

/** Reads whole frames from a stream: resolves with the next one (header words, header, payload). */
function frameReader(
  stream: NodeJS.ReadableStream,
): () => Promise<{ options: number[]; flags: number; payload: Buffer }> {
  let pending = Buffer.alloc(0);
  const waiting: (() => void)[] = [];
  stream.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    waiting.splice(0).forEach((wake) => wake());
  });
  return async () => {
    for (;;) {
      if (pending.length >= 12) {
        const words = pending[0]! & 0x0f;
        const size = words * 4 + pending.readUInt32LE(2);
        if (pending.length >= size) {
          const options = Array.from({ length: words - 3 }, (_, i) => pending.readUInt32LE(12 + 4 * i));
          const result = { options, flags: pending[1]!, payload: Buffer.from(pending.subarray(words * 4, size)) };
          pending = pending.subarray(size);
          return result;
        }
      }
      await new Promise<void>((wake) => waiting.push(wake));
    }
  };
}

describe("scripts/bench/c", () => {
  it("compiles with the system's cc", () => {
    expect(typeof build === "string" ? build : "built").toBe("built");
  });

  it("the echo worker offers event ids in its pid reply and echoes each request's id", async () => {
    if (typeof build === "string") throw new Error(build);
    const worker = spawn(build.echoWorker, [], { stdio: ["pipe", "pipe", "inherit"] });
    try {
      const next = frameReader(worker.stdout!);
      worker.stdin!.write(frame(0x09, [], Buffer.from(JSON.stringify({ pid: true }))));
      const hello = await next();
      expect(hello.flags & 0x01).toBe(1);
      expect(JSON.parse(hello.payload.toString())).toEqual({ pid: worker.pid, echo_event_id: true });
      const context = Buffer.from(JSON.stringify({ event: "DATA", uuid: "u" }));
      worker.stdin!.write(frame(0, [context.length, 0xfeedbeef], Buffer.concat([context, Buffer.from("hi\n")])));
      const withId = await next();
      expect(withId.options).toEqual([5, 0xfeedbeef]);
      expect(withId.payload.toString()).toBe("WRITEhi\n");
      // As the C forwarder (and RoadRunner) send it: no id, and none comes back.
      worker.stdin!.write(frame(0, [context.length], Buffer.concat([context, Buffer.from("again\n")])));
      const withoutId = await next();
      expect(withoutId.options).toEqual([5]);
      expect(withoutId.payload.toString()).toBe("WRITEagain\n");
    } finally {
      worker.kill("SIGKILL");
    }
  });

  it("with ECHO_EVENT_ID=0 the echo worker says only its pid, as spiral/roadrunner-tcp does", async () => {
    if (typeof build === "string") throw new Error(build);
    const worker = spawn(build.echoWorker, [], {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, ECHO_EVENT_ID: "0" },
    });
    try {
      const next = frameReader(worker.stdout!);
      worker.stdin!.write(frame(0x09, [], Buffer.from(JSON.stringify({ pid: true }))));
      expect(JSON.parse((await next()).payload.toString())).toEqual({ pid: worker.pid });
    } finally {
      worker.kill("SIGKILL");
    }
  });

  it("the C forwarder with 2 C workers echoes a line", async () => {
    if (typeof build === "string") throw new Error(build);
    const target = await startCForwarder(build, 2);
    try {
      expect(await echoOnce(target.port, "through the floor\r\n")).toBe("through the floor\r\n");
    } finally {
      await target.stop();
    }
  });

  it("rr-tcp with 2 C workers echoes a line (the worker's echoed ids are accepted)", async () => {
    if (typeof build === "string") throw new Error(build);
    const rr = await startService(`
server:
  command: ${JSON.stringify(build.echoWorker)}
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
  pool: { num_workers: 2 }
`);
    try {
      for (let i = 0; i < 5; i++) expect(await echoOnce(rr.port("main"), `line ${i}\r\n`)).toBe(`line ${i}\r\n`);
    } finally {
      await rr.stop();
    }
  });
});
