/**
 * The defaults of a decoded config: RoadRunner's (tcp plugin config and pool `InitDefaults`:
 * docs/wire.md#tcp-configuration, docs/wire.md#pool-settings) and rr-tcp's own keys, all read
 * from the schema (src/options; the (spec) option of each field of options.proto). Zero values
 * mean "the default", as in RoadRunner.
 */
import type { Config } from "../../gen/ts/rr/tcp/v1/options.js";
import { fillDefaults } from "../options/index.js";

/**
 * Fills every defaulted key of `config` in place and returns it. `tcp.pool.num_workers` 0 means
 * one worker per CPU (`cpuCount`), as RoadRunner's pool does; `tcp.processes` 0 one process per CPU.
 */
export function applyDefaults(config: Config, cpuCount: number): Config {
  fillDefaults("Config", config);
  const pool = config.tcp!.pool!;
  if (pool.num_workers === 0) pool.num_workers = Math.max(1, cpuCount);
  const tcp = config.tcp!;
  if (tcp.processes === 0) tcp.processes = Math.max(1, cpuCount);
  return config;
}

/** The worker command line: tcp.pool.command when set, else server.command. */
export function workerCommand(config: Config): string[] {
  const own = config.tcp?.pool?.command ?? [];
  return own.length > 0 ? own : (config.server?.command ?? []);
}
