/**
 * Test support: plays RoadRunner's side against a real worker process. Frames are read back as
 * the exact bytes the worker wrote, so tests can compare them byte for byte.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { DEFAULT_MAX_PAYLOAD_SIZE, HEADER_BASE_SIZE, readFrameLength } from "../../src/goridge/index.js";
import { within } from "../fixtures/eventually.js";
import { capturedFrame } from "../fixtures/goridge-frames.js";

/** The command line a pool uses for a TypeScript worker: no `tsx` CLI in between, so the pid RoadRunner spawns is the worker's. */
export const NODE_TSX = [process.execPath, "--import", "tsx"] as const;

export const ECHO_WORKER = fileURLToPath(new URL("../../examples/echo-worker.ts", import.meta.url));
export const BEHAVIOUR_WORKER = fileURLToPath(new URL("./fixtures/behaviour-worker.ts", import.meta.url));
export const LOOP_WORKER = fileURLToPath(new URL("./fixtures/loop-worker.ts", import.meta.url));

/** The bytes of the captured frame whose name contains `part` (exactly one must match). */
export const vector = capturedFrame;

/** A worker child process with its stderr captured. */
export interface WorkerChild {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exit: Promise<number | string>;
}

/** Starts `script` as `node --import tsx script`, stdio piped, with `env` added to the environment. */
export function startWorker(script: string, env: Record<string, string> = {}): WorkerChild {
  const [node, ...args] = NODE_TSX;
  const child = spawn(node, [...args, script], {
    env: { ...process.env, RR_MODE: "tcp", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exit = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  return { child, stderr: () => stderr, exit };
}

/** A wait's failure detail: the worker's stderr, which usually says why it is silent. */
export function workerStderr(w: WorkerChild): () => string {
  return () => `worker stderr: ${w.stderr()}`;
}

/** How long a worker may take to answer a frame. */
export const REPLY_MS = 5_000;
/**
 * How long a worker may take to answer its first frame: that includes starting node and tsx,
 * which on a loaded machine, with other workers starting too, takes seconds.
 */
export const FIRST_REPLY_MS = 15_000;

/** `frames.next()` bounded: the first reply gets FIRST_REPLY_MS, later ones REPLY_MS (both scaled). */
function replies(frames: RawFrames, w: WorkerChild): () => Promise<Buffer | null> {
  let first = true;
  return () => {
    const timeout = first ? FIRST_REPLY_MS : REPLY_MS;
    first = false;
    return within(frames.next(), { timeout, what: "a reply frame", detail: workerStderr(w) });
  };
}

/**
 * Cuts a byte stream into frames, keeping each frame's exact bytes. Uses goridge's header check,
 * so a frame with a bad CRC fails the read instead of being returned.
 */
export class RawFrames {
  #buffer = Buffer.alloc(0);
  #frames: Buffer[] = [];
  #waiters: Array<{ resolve(b: Buffer | null): void; reject(e: Error): void }> = [];
  #ended = false;
  #error: Error | undefined;

  constructor(stream: Readable) {
    stream.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    stream.on("end", () => {
      this.#ended = true;
      this.#flush();
    });
    stream.on("error", (err) => {
      this.#error = err;
      this.#flush();
    });
  }

  /** The next frame's bytes, or null at end of stream. */
  next(): Promise<Buffer | null> {
    const frame = this.#frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Bytes received after the last whole frame. */
  get leftover(): Buffer {
    return this.#buffer;
  }

  #parse(): void {
    try {
      while (this.#buffer.length >= HEADER_BASE_SIZE) {
        const length = readFrameLength(this.#buffer, 0, DEFAULT_MAX_PAYLOAD_SIZE);
        if (this.#buffer.length < length) break;
        this.#frames.push(Buffer.from(this.#buffer.subarray(0, length)));
        this.#buffer = this.#buffer.subarray(length);
      }
    } catch (err) {
      this.#error = err as Error;
    }
    this.#flush();
  }

  #flush(): void {
    while (this.#waiters.length > 0) {
      const frame = this.#frames.shift();
      const waiter = this.#waiters[0] as { resolve(b: Buffer | null): void; reject(e: Error): void };
      if (frame !== undefined) waiter.resolve(frame);
      else if (this.#error) waiter.reject(this.#error);
      else if (this.#ended) waiter.resolve(null);
      else return;
      this.#waiters.shift();
    }
  }
}

/** RoadRunner's side of one relay: write request frames, read reply frames. */
export interface ServerSide {
  send(frame: Buffer): void;
  /** The next reply frame, exact bytes; null once the worker closed its end. */
  reply(): Promise<Buffer | null>;
  /** Closes the server's end (the worker sees end of stream). */
  end(): void;
}

/** The pipes relay of `w`: its stdin and stdout. */
export function pipesOf(w: WorkerChild): ServerSide {
  const frames = new RawFrames(w.child.stdout as Readable);
  const stdin = w.child.stdin!;
  // The worker may exit before a late write; the test looks at the exit code, not at EPIPE.
  stdin.on("error", () => {});
  return {
    send: (frame) => void stdin.write(frame),
    reply: replies(frames, w),
    end: () => stdin.end(),
  };
}

/** The socket relay a worker connected to `server` with: resolves on its first connection. */
export function acceptRelay(server: import("node:net").Server, w: WorkerChild): Promise<ServerSide> {
  return within(
    new Promise<ServerSide>((resolve) => {
      server.once("connection", (socket) => {
        socket.on("error", () => {});
        const frames = new RawFrames(socket);
        resolve({
          send: (frame) => void socket.write(frame),
          // Connected, so started: its first reply needs no start-up allowance.
          reply: () => within(frames.next(), { timeout: REPLY_MS, what: "a reply frame", detail: workerStderr(w) }),
          end: () => socket.end(),
        });
      });
    }),
    { timeout: FIRST_REPLY_MS, what: "the worker to connect", detail: workerStderr(w) },
  );
}
