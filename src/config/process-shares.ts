/**
 * `tcp.processes`: several server processes take the connections of one set of listeners, each
 * owning a share of what the config counts for the whole: the workers (pool.num_workers), every
 * server's max_connections and the buffer budget (max_buffered_bytes). The shares add up to the
 * configured totals, so those stay bounds of the whole instance (docs/processes.md).
 */
import type { Config } from "../../gen/ts/rr/tcp/v1/options.js";
import { formatRelayAddress, parseRelayAddress, type RelayAddress } from "../net/index.js";
import type { ConfigIssue } from "./errors.js";

/** Process `index`'s (0-based) part of `total` split over `count`: the first `total % count` get one more. */
export function shareOf(total: number, index: number, count: number): number {
  return Math.floor(total / count) + (index < total % count ? 1 : 0);
}

/** The number of server processes of a loaded (defaulted) config. */
export function processCount(config: Config): number {
  return config.tcp?.processes ?? 1;
}

/**
 * What makes a config unable to run as `tcp.processes` processes: a count that would leave one
 * without a worker or without a connection. Empty for one process.
 */
export function processShareIssues(config: Config): ConfigIssue[] {
  const count = processCount(config);
  if (count <= 1) return [];
  const issues: ConfigIssue[] = [];
  const tcp = config.tcp!;
  const pool = tcp.pool!;
  const each = `tcp.processes is ${count}, and each process owns its share`;
  if (!pool.debug && pool.num_workers < count) {
    issues.push({
      path: "tcp.pool.num_workers",
      message: `${pool.num_workers} is fewer than one worker per process (${each})`,
    });
  }
  for (const [name, server] of Object.entries(tcp.servers)) {
    if (server.max_connections > 0 && server.max_connections < count) {
      issues.push({
        path: `tcp.servers.${name}.max_connections`,
        message: `${server.max_connections} is fewer than one connection per process (${each}; 0 is unlimited)`,
      });
    }
  }
  return issues;
}

/**
 * The address of process `index`'s socket relay: each process's pool listens for its own
 * workers, so every process but the first gets a port `index` above the configured one (an
 * ephemeral port stays ephemeral) or a socket file with `.<index>` before its extension.
 */
export function relayOfProcess(relay: string, index: number): string {
  if (index === 0 || relay === "" || relay === "pipes") return relay;
  const address: RelayAddress = parseRelayAddress(relay);
  if (address.kind === "tcp")
    return address.port === 0 ? relay : formatRelayAddress({ ...address, port: address.port + index });
  if (address.kind === "unix") {
    const dot = address.path.lastIndexOf(".");
    const slash = address.path.lastIndexOf("/");
    const path =
      dot > slash + 1 ? `${address.path.slice(0, dot)}.${index}${address.path.slice(dot)}` : `${address.path}.${index}`;
    return formatRelayAddress({ kind: "unix", path });
  }
  return relay;
}

/**
 * Process `index`'s own config (of `count`): its shares of the totals, its own relay address,
 * and `processes: 1`. The endpoints (control, rpc, status, metrics) are the primary's and are
 * left out; its workers get the primary's RPC address as RR_RPC (in server.env). In a cluster each process
 * is an instance of its own, its id the configured one with `-p<index>` after it.
 */
export function processShare(config: Config, index: number, count: number, rpcAddress?: string): Config {
  const tcp = config.tcp!;
  const pool = tcp.pool!;
  const servers = Object.fromEntries(
    Object.entries(tcp.servers).map(([name, server]) => [
      name,
      { ...server, max_connections: shareOf(server.max_connections, index, count) },
    ]),
  );
  const share: Config = {
    ...config,
    tcp: {
      ...tcp,
      processes: 1,
      servers,
      max_buffered_bytes: Math.max(1, shareOf(tcp.max_buffered_bytes, index, count)),
      pool: { ...pool, num_workers: pool.debug ? pool.num_workers : shareOf(pool.num_workers, index, count) },
    },
    server: config.server && {
      ...config.server,
      relay: relayOfProcess(config.server.relay, index),
      env: { ...config.server.env, ...(rpcAddress !== undefined && { RR_RPC: rpcAddress }) },
    },
    control: undefined,
    status: undefined,
    metrics: undefined,
    rpc: undefined,
  };
  if (config.cluster) {
    share.cluster = {
      ...config.cluster,
      instance_id: config.cluster.instance_id && `${config.cluster.instance_id}-p${index}`,
    };
  }
  return share;
}
