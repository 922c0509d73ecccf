/**
 * Bad input from the server side ends the worker with an error on stderr that names the problem
 * and a non-zero exit, within a bounded time; the server going away ends it cleanly.
 */
import { describe, expect, it } from "vitest";
import { within } from "../fixtures/eventually.js";
import {
  decodeFrame,
  encodeControlFrame,
  encodeFrame,
  encodePayloadFrame,
  FrameFlag,
} from "../../src/goridge/index.js";
import { ECHO_WORKER, pipesOf, startWorker, vector, workerStderr, type ServerSide } from "./harness.js";

// Generous for a loaded machine (and scaled by RR_TCP_TEST_TIMEOUT_SCALE); a hang would sit here
// until the test times out.
const EXIT_WITHIN_MS = 8000;

interface Outcome {
  code: number | string;
  stderr: string;
}

/** Runs the echo worker: pid handshake, then `feed`; returns how the process ended. */
async function run(feed: (relay: ServerSide) => void | Promise<void>): Promise<Outcome> {
  const w = startWorker(ECHO_WORKER, { RR_RELAY: "pipes" });
  try {
    const relay = pipesOf(w);
    relay.send(vector("control: pid request"));
    expect(await relay.reply()).not.toBeNull();
    await feed(relay);
    const code = await within(w.exit, { timeout: EXIT_WITHIN_MS, what: "the worker to exit", detail: workerStderr(w) });
    return { code, stderr: w.stderr() };
  } finally {
    w.child.kill("SIGKILL");
  }
}

describe("the echo worker given bad input by the server", () => {
  it.concurrent("a truncated frame, then end of stream", async () => {
    const out = await run((relay) => {
      relay.send(vector("CONNECTED request").subarray(0, 40));
      relay.end();
    });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/fatal: \[TRUNCATED\] stream ended mid-frame: 94 of 134 bytes/);
  });

  it.concurrent("a header with a bad CRC", async () => {
    const frame = Buffer.from(vector("CONNECTED request"));
    frame[6] = (frame[6] as number) ^ 0xff;
    const out = await run((relay) => relay.send(frame));
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/fatal: \[CRC_MISMATCH\] header CRC32 is 0x/);
  });

  it.concurrent("an unknown control command", async () => {
    const out = await run((relay) => relay.send(encodeControlFrame({ reload: true })));
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/fatal: \[UNKNOWN_CONTROL\] unknown control command .*\{\\"reload\\":true\}/);
  });

  it.concurrent("a control frame that is not JSON", async () => {
    const out = await run((relay) =>
      relay.send(encodeFrame(FrameFlag.CONTROL | FrameFlag.CODEC_JSON, [], Buffer.from("{pid"))),
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/fatal: \[BAD_CONTROL\] control frame payload is not JSON/);
  });

  it.concurrent("a context that is not valid JSON", async () => {
    const out = await run(async (relay) => {
      relay.send(encodePayloadFrame(Buffer.from('{"remote_addr":"127.0.0.1:1","event":'), Buffer.from("hi\r\n")));
      // The request is failed first, so the server is not left waiting on it.
      const reply = decodeFrame((await relay.reply()) as Buffer);
      expect(reply.flags).toBe(FrameFlag.ERROR);
      expect(reply.payload.toString()).toMatch(
        /^the worker could not decode the request context: invalid JSON context/,
      );
    });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/fatal: \[CONTEXT_DECODE\] invalid JSON context/);
  });

  it.concurrent("a protobuf context (CODEC_PROTO) that does not decode", async () => {
    const out = await run((relay) =>
      relay.send(encodePayloadFrame(Buffer.from([0x0a, 0xff, 0xff, 0xff]), Buffer.alloc(0), FrameFlag.CODEC_PROTO)),
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/fatal: \[CONTEXT_DECODE\] invalid protobuf context/);
  });

  it.concurrent("a request frame without the context-length option", async () => {
    const out = await run((relay) => relay.send(encodeFrame(0, [], Buffer.from("{}"))));
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/fatal: \[BAD_OPTIONS\] options length should be equal 1/);
  });

  it.concurrent("the server going away (end of stream between frames) is a clean exit", async () => {
    const out = await run((relay) => relay.end());
    expect(out).toMatchObject({ code: 0, stderr: "" });
  });
});
