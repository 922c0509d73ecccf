/**
 * The commands that talk to a running rr-tcp over RoadRunner's RPC (`rpc.listen` of the config,
 * or `--rpc ADDR`), as `rr workers` and `rr reset` talk to RoadRunner:
 *
 *   rr-tcp workers [-i] [--json]   informer.Workers("tcp"): pid, status, execs, memory, CPU %, created
 *   rr-tcp reset                   resetter.Reset("tcp"): every worker replaced
 *   rr-tcp connections [--json] [--server NAME]   tcp.List (rr-tcp's own): the open client connections
 *   rr-tcp close UUID              tcp.Close(uuid), after checking the connection is open
 *   rr-tcp write UUID [DATA] [--close]   tcp.Write / tcp.WriteClose (rr-tcp's own): bytes to one client
 *   rr-tcp broadcast SERVER [DATA]       tcp.Broadcast (rr-tcp's own): bytes to every client of a server
 *
 * DATA is written as its UTF-8 bytes, exactly (no newline is added: `$'hi\r\n'` in bash);
 * `--base64` reads it as base64, `--file PATH` (`-` for stdin) takes the bytes from a file.
 *
 * Each prints on stdout and exits 0, or prints why on stderr and exits 1.
 */
import { readFile } from "node:fs/promises";
import { ConnectionList } from "../../gen/ts/rr/tcp/v1/control.js";
import { expandEnv, readConfigFileData } from "../config/index.js";
import { PLUGIN } from "../control/control-target.js";
import type { ProcessState } from "../control/rpc-methods.js";
import { applyOverrides } from "../config/overrides.js";
import { durationToMs } from "../protocol/index.js";
import { RpcClient } from "../worker/rpc-client.js";
import { CliUsageError, locateConfig, noConfigFile, type ConfigFlags } from "./config-source.js";
import { humanBytes, humanSpan, textTable } from "./text-table.js";

export interface RpcFlags extends ConfigFlags {
  /** The RPC address, instead of the config's rpc.listen. */
  rpc?: string;
}

/** A worker as the JSON of informer.Workers gives it (`created` arrives as a number). */
type ListedWorker = Partial<Omit<ProcessState, "created">> & { pid: number; created?: number };

/**
 * The RPC address: --rpc, else rpc.listen of the config the other flags choose. Only that key is
 * read, as `rr workers` does: the rest of the config may need variables only the server's
 * environment has.
 */
async function rpcAddress(flags: RpcFlags): Promise<string> {
  if (flags.rpc) return flags.rpc;
  const { file, overrides } = locateConfig(flags);
  if (file === undefined) throw noConfigFile();
  // With its includes: rpc.listen may be in an included file.
  const data = applyOverrides((await readConfigFileData(file)).data, overrides);
  const rpc = data.rpc as { listen?: unknown } | undefined;
  const listen = typeof rpc?.listen === "string" ? expandEnv(rpc.listen, process.env).trim() : "";
  if (listen === "")
    throw new CliUsageError(
      `${file} has no rpc.listen, so rr-tcp there answers no RPC: set it, or give --rpc tcp://host:port`,
      { key: "rpc.listen" },
    );
  return listen;
}

/**
 * `rr workers http jobs` names plugins; rr-tcp has one, so any other name is refused rather
 * than answered with nothing.
 * @throws CliUsageError
 */
export function checkPlugins(plugins: readonly string[]): void {
  const other = plugins.filter((name) => name !== PLUGIN);
  if (other.length > 0) throw new CliUsageError(`no such plugin: ${other.join(", ")} (rr-tcp runs only "${PLUGIN}")`);
}

/** Connects, runs `use`, and closes. */
export async function withRpc<T>(flags: RpcFlags, use: (rpc: RpcClient) => Promise<T>): Promise<T> {
  const address = await rpcAddress(flags);
  const rpc = await RpcClient.connect(address);
  try {
    return await use(rpc);
  } finally {
    rpc.close();
  }
}

/** The workers table, as `rr workers` shows it. */
export function workersTable(workers: readonly ListedWorker[], now = Date.now()): string {
  const rows = [...workers]
    .sort((a, b) => a.pid - b.pid)
    .map((w) => [
      String(w.pid),
      w.statusStr ?? "",
      (w.numExecs ?? 0).toLocaleString("en-US"),
      humanBytes(w.memoryUsage ?? 0),
      (w.CPUPercent ?? 0).toFixed(2),
      w.created ? `${humanSpan(now - w.created / 1e6)} ago` : "",
    ]);
  return textTable(["PID", "STATUS", "EXECS", "MEMORY", "CPU%", "CREATED"], rows);
}

async function fetchWorkers(rpc: RpcClient): Promise<ListedWorker[]> {
  const result = (await rpc.call("informer.Workers", PLUGIN)) as { workers?: ListedWorker[] | null };
  return result.workers ?? [];
}

export async function workersCommand(
  flags: RpcFlags & { interactive?: boolean; json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  await withRpc(flags, async (rpc) => {
    const render = async (): Promise<string> => {
      const workers = await fetchWorkers(rpc);
      return flags.json ? JSON.stringify({ workers }) + "\n" : `Workers of [${PLUGIN}]:\n${workersTable(workers)}`;
    };
    if (!flags.interactive) {
      out.write(await render());
      return;
    }
    // -i: redraw every second until interrupted, as `rr workers -i` does.
    const stop = new Promise<void>((resolve) => process.once("SIGINT", resolve));
    for (;;) {
      out.write("\x1b[H\x1b[2J" + (await render()));
      const tick = await Promise.race([stop.then(() => "stop"), new Promise((r) => setTimeout(r, 1000, "tick"))]);
      if (tick === "stop") return;
    }
  });
}

export async function resetCommand(flags: RpcFlags, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  await withRpc(flags, async (rpc) => {
    const started = Date.now();
    await rpc.call("resetter.Reset", PLUGIN);
    out.write(`${PLUGIN}: every worker replaced (${Date.now() - started} ms)\n`);
  });
}

async function fetchConnections(rpc: RpcClient): Promise<ConnectionList> {
  return ConnectionList.fromJSON(await rpc.call("tcp.Connections", PLUGIN));
}

export async function connectionsCommand(
  flags: RpcFlags & { json?: boolean; server?: string },
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  await withRpc(flags, async (rpc) => {
    // tcp.Connections without a server: an rr-tcp from before tcp.List still answers it.
    const list = flags.server ? await rpc.list(flags.server) : await fetchConnections(rpc);
    if (flags.json) {
      out.write(JSON.stringify(ConnectionList.toJSON(list)) + "\n");
      return;
    }
    const rows = list.connections.map((c) => [
      c.uuid,
      c.server,
      c.remote_addr,
      humanSpan(durationToMs(c.age)),
      humanBytes(c.bytes_received),
      humanBytes(c.bytes_sent),
    ]);
    out.write(textTable(["UUID", "SERVER", "CLIENT", "AGE", "RECEIVED", "SENT"], rows));
  });
}

export async function closeCommand(
  uuid: string,
  flags: RpcFlags,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  await withRpc(flags, async (rpc) => {
    // tcp.Close answers true for any uuid (RoadRunner's contract); the listing tells the two apart.
    const wanted = uuid.toLowerCase();
    const open = (await fetchConnections(rpc)).connections.some((c) => c.uuid === wanted);
    if (!open) throw new CliUsageError(`no open connection has uuid ${uuid} (rr-tcp connections lists them)`);
    await rpc.call("tcp.Close", wanted);
    out.write(`closed ${wanted}\n`);
  });
}

/** Where the bytes of a push come from. */
export interface PushFlags extends RpcFlags {
  /** DATA is base64. */
  base64?: boolean;
  /** The bytes are this file's (`-`: stdin), not DATA. */
  file?: string;
}

/**
 * The bytes of a push: DATA's UTF-8 bytes, or DATA decoded from base64, or a file's bytes.
 * @throws CliUsageError for neither or both of DATA and --file, or DATA that is not base64
 */
export async function pushData(data: string | undefined, flags: PushFlags): Promise<Buffer> {
  if (flags.file !== undefined) {
    if (data !== undefined) throw new CliUsageError("give the bytes as DATA or with --file, not both");
    return flags.file === "-" ? readStream(process.stdin) : readFile(flags.file);
  }
  if (data === undefined) throw new CliUsageError("no bytes to write: give DATA, or --file PATH (- for stdin)");
  if (!flags.base64) return Buffer.from(data, "utf8");
  const compact = data.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new CliUsageError("--base64: DATA is not standard base64 with padding");
  }
  return Buffer.from(compact, "base64");
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function writeCommand(
  uuid: string,
  data: string | undefined,
  flags: PushFlags & { close?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const bytes = await pushData(data, flags);
  await withRpc(flags, async (rpc) => {
    const wanted = uuid.toLowerCase();
    if (flags.close) await rpc.writeClose(wanted, bytes);
    else await rpc.write(wanted, bytes);
    out.write(`${bytes.length} bytes to ${wanted}${flags.close ? ", then closed" : ""}\n`);
  });
}

export async function broadcastCommand(
  server: string,
  data: string | undefined,
  flags: PushFlags,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const bytes = await pushData(data, flags);
  await withRpc(flags, async (rpc) => {
    await rpc.broadcast(server, bytes);
    out.write(`${bytes.length} bytes to every client of ${server}\n`);
  });
}
