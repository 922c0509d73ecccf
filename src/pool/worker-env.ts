/**
 * A worker's command line and environment (docs/wire.md#command-and-environment).
 */

/** The RoadRunner version workers see in RR_VERSION: the one this package is compatible with. */
export const RR_VERSION = "2025.1.15-rr-tcp";

/** What workers see in RR_MODE. */
export const RR_MODE = "tcp";

/**
 * The environment of a worker, later entries winning as with Go's `exec`: the server's own,
 * `RR_RELAY`, then `extra` (RR_RPC when configured and server.env, already upper-cased and
 * expanded by the config loader), `RR_VERSION`, `RR_MODE=tcp`.
 */
export function workerEnv(
  relay: string,
  extra: Readonly<Record<string, string>> | undefined,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return { ...base, RR_RELAY: relay, ...extra, RR_VERSION, RR_MODE };
}

/** The command as one string, for messages and logs. */
export function formatCommand(command: readonly string[]): string {
  return command.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(" ");
}
