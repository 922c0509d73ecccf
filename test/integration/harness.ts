/**
 * Integration harness: real sockets on 127.0.0.1, the real WorkerPool, and real worker processes
 * (test/fixtures/recording-worker.ts) that log every event they see to a file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pino from "pino";
import { parseConfig } from "../../src/config/index.js";
import { WorkerPool } from "../../src/pool/index.js";
import { WorkerStatus } from "../../gen/ts/rr/tcp/v1/control.js";
import { Service } from "../../src/service/service.js";
import { eventually } from "../fixtures/eventually.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** tsx's ESM loader by absolute URL, so workers start from any cwd. */
export const TSX_LOADER = pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
export const RECORDING_WORKER = join(ROOT, "test", "fixtures", "recording-worker.ts");
/** The recording worker's command line, one string (no spaces in these paths). */
export const RECORDING_WORKER_CMD = `${process.execPath} --import ${TSX_LOADER} ${RECORDING_WORKER}`;
export const PUSH_WORKER = join(ROOT, "test", "fixtures", "push-worker.ts");

/**
 * A config for the push tests: RoadRunner's RPC and the control API on ephemeral ports, workers
 * that are test/fixtures/push-worker.ts keeping their files in `dir`, and `tcp` as the tcp
 * section's body (its keys indented by two spaces).
 */
export function pushWorkerConfig(dir: string, tcp: string): string {
  return `
rpc:
  listen: tcp://127.0.0.1:0
control:
  addr: 127.0.0.1:0
server:
  command: ${process.execPath} --import ${TSX_LOADER} ${PUSH_WORKER}
  env:
    PUSH_DIR: ${dir}
tcp:
${tcp}`;
}

/** One event as the recording worker logged it. */
export interface Recorded {
  pid: number;
  /** The worker's parent: the server process (or, under tcp.processes, one of them). */
  ppid?: number;
  uuid: string;
  server: string;
  remote_addr: string;
  event: string;
  body: string;
}

/** The recording workers' log file. */
export class Recording {
  constructor(readonly file: string) {}

  all(): Recorded[] {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Recorded);
  }

  /** One connection's events as `EVENT` or `EVENT:body`. */
  log(uuid: string): string[] {
    return this.all()
      .filter((r) => r.uuid === uuid)
      .map((r) => (r.body ? `${r.event}:${r.body}` : r.event));
  }

  /** Polls the log until `probe` gives a value; fails after `ms` (scaled) with what it saw. */
  async until<T>(probe: (all: Recorded[]) => T | undefined | false, what: string, ms = 10_000): Promise<T> {
    let all: Recorded[] = [];
    let found: T | undefined | false;
    await eventually(
      () => {
        all = this.all();
        found = probe(all);
        return found !== undefined && found !== false;
      },
      {
        timeout: ms,
        what,
        detail: () => `recorded: ${JSON.stringify(all.map((r) => [r.uuid.slice(0, 8), r.event, r.body.slice(0, 40)]))}`,
      },
    );
    return found as T;
  }

  /** The uuid of the connection from this client port (its CONNECTED event's remote_addr). */
  uuidOf(localPort: number | undefined): Promise<string> {
    return this.until(
      (all) => all.find((r) => r.event === "CONNECTED" && r.remote_addr.endsWith(`:${localPort}`))?.uuid,
      `CONNECTED from port ${localPort}`,
    );
  }
}

/** A temp directory with a record file. */
export function tempRecording(): { dir: string; recording: Recording; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-it-"));
  const file = join(dir, "events.jsonl");
  writeFileSync(file, "");
  return { dir, recording: new Recording(file), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running service on a YAML config; `${WORKER_CMD}` and `${RECORD_FILE}` are set for it. */
export interface RunningService {
  service: Service;
  recording: Recording;
  /** The bound port of a named server. */
  port(server: string): number;
  stop(): Promise<void>;
}

export async function startService(yaml: string): Promise<RunningService> {
  const { dir, recording, cleanup } = tempRecording();
  const loaded = parseConfig(yaml, {
    env: { WORKER_CMD: RECORDING_WORKER_CMD, RECORD_FILE: recording.file },
    baseDir: dir,
  });
  const logger = pino({ level: process.env.RR_TCP_TEST_LOG ?? "silent" }, pino.destination(2));
  const service = await Service.start(loaded, logger, (options) => WorkerPool.start(options));
  const addresses = service.server.addresses();
  return {
    service,
    recording,
    port(server) {
      const address = addresses[server];
      if (!address) throw new Error(`no server ${server}`);
      return Number(address.slice(address.lastIndexOf(":") + 1));
    },
    async stop() {
      await service.stop();
      cleanup();
    },
  };
}

/**
 * Waits until what an earlier test left behind is gone: no connection open, and `workers`
 * workers all ready (crashed or killed ones replaced: a tsx start each, seconds on a loaded
 * machine).
 */
export async function settled(service: Service, workers: number): Promise<void> {
  await eventually(
    () => {
      const state = service.pool.state().workers;
      return (
        service.server.connectionIds().length === 0 &&
        state.length === workers &&
        state.every((w) => w.status === WorkerStatus.READY)
      );
    },
    {
      timeout: 30_000,
      what: `no open connection and ${workers} ready workers`,
      detail: () =>
        `open: ${service.server.connectionIds().length}; workers: ${JSON.stringify(service.pool.state().workers.map((w) => [w.pid, w.status]))}`,
    },
  );
}
