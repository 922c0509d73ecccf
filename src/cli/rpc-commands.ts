/**
 * The commands that talk to a running rr-tcp over RoadRunner's RPC (`rpc.listen` of the config,
 * or `--rpc ADDR`), as `rr workers` and `rr reset` talk to RoadRunner:
 *
 *   rr-tcp workers [-i] [--json]   informer.Workers("tcp"): pid, status, execs, memory, CPU %, created
 *   rr-tcp reset                   resetter.Reset("tcp"): every worker replaced
 *   rr-tcp connections [--json]    tcp.Connections (rr-tcp's own): the open client connections
 *   rr-tcp close UUID              tcp.Close(uuid), after checking the connection is open
 *
 * Each prints on stdout and exits 0, or prints why on stderr and exits 1.
 */
import { ConnectionList } from "../../gen/ts/rr/tcp/v1/control.js";
import { expandEnv, parseConfigData, readConfigText } from "../config/index.js";
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
  const data = applyOverrides(parseConfigData(await readConfigText(file), file), overrides);
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
  flags: RpcFlags & { json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  await withRpc(flags, async (rpc) => {
    const list = await fetchConnections(rpc);
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
