/**
 * Plays RoadRunner's side of the pipes relay against a worker process in any language: frames in
 * on its stdin, frames out of its stdout, read with rr-tcp's own FrameReader (which checks the
 * CRC as RoadRunner does).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { encodeFrame, StreamRelay, type Frame } from "../../src/goridge/index.js";

export class WorkerSession {
  readonly child: ChildProcessWithoutNullStreams;
  readonly relay: StreamRelay;
  #stderr = "";
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: readonly string[], env: NodeJS.ProcessEnv) {
    const [file, ...args] = command;
    this.child = spawn(file!, args, {
      env: { ...env, RR_RELAY: "pipes", RR_MODE: "tcp" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.relay = new StreamRelay(this.child.stdout, this.child.stdin, {
      name: `${command.join(" ")} pid ${this.child.pid}`,
    });
    this.#exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  get stderr(): string {
    return this.#stderr;
  }

  send(frame: Buffer): void {
    this.relay.send(frame);
  }

  /** The next frame; fails after `timeoutMs` with the worker's stderr, to show why it is silent. */
  async next(timeoutMs = 10_000): Promise<Frame> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no frame from the worker within ${timeoutMs} ms; its stderr:\n${this.#stderr}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.relay.receive(), timeout]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker stderr:\n${this.#stderr}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a frame and returns the reply. */
  async exchange(frame: Buffer): Promise<Frame> {
    this.send(frame);
    return this.next();
  }

  /** Resolves with the exit; kills the worker if it has not exited within `timeoutMs`. */
  async exit(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    this.relay.close();
  }
}

/** A received frame as the exact bytes it was sent as (its header fields determine them all). */
export function frameHex(frame: Frame): string {
  return encodeFrame(frame.flags, frame.options, frame.payload, frame.byte10).toString("hex");
}
