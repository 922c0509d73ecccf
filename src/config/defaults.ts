/**
 * RoadRunner's defaults (tcp plugin config and pool `InitDefaults`: docs/wire.md#tcp-configuration,
 * docs/wire.md#pool-settings)
 * plus rr-tcp's own keys, applied to a decoded config. Zero values mean "the default" as in
 * RoadRunner; the proto comments in proto/rr/tcp/v1/options.proto state the same numbers.
 */
import type { Duration } from "../../gen/ts/google/protobuf/duration.js";
import { LIMITS } from "../limits.js";
import {
  ContextCodec,
  Framing,
  LogsOptions,
  PoolOptions,
  Routing,
  ServerOptions,
  TcpOptions,
  type Config,
} from "../../gen/ts/rr/tcp/v1/options.js";

/** Seconds as a schema Duration. */
const seconds = (s: number): Duration => ({ seconds: s, nanos: 0 });

export const DEFAULT_DELIMITER = "\r\n";
/** tcp.read_buf_size, in megabytes. */
export const DEFAULT_READ_BUF_SIZE_MB = 1;
/** tcp.servers.*.max_message_size, in bytes (src/limits.ts). */
export const DEFAULT_MAX_MESSAGE_SIZE = LIMITS.message.value;
/** tcp.max_buffered_bytes, in bytes (src/limits.ts); the server applies the same when not set. */
export const DEFAULT_MAX_BUFFERED_BYTES = LIMITS.bufferedBytes.value;
export const DEFAULT_LENGTH_BYTES = 4;
export const DEFAULT_RELAY = "pipes";
export const DEFAULT_LOG_LEVEL = "info";
/** allocate_timeout, destroy_timeout, reset_timeout, stream_timeout, relay_timeout. */
export const DEFAULT_POOL_TIMEOUT: Duration = seconds(60);
/** supervisor.watch_tick. */
export const DEFAULT_WATCH_TICK: Duration = seconds(5);

function isZero(duration: Duration | undefined): boolean {
  return !duration || (duration.seconds === 0 && duration.nanos === 0);
}

function orDefault(duration: Duration | undefined, fallback: Duration): Duration {
  return isZero(duration) ? { ...fallback } : (duration as Duration);
}

/** Fills every defaulted key of `config` in place and returns it. `cpuCount` replaces num_workers 0. */
export function applyDefaults(config: Config, cpuCount: number): Config {
  const server = (config.server ??= ServerOptions.create());
  if (server.relay === "") server.relay = DEFAULT_RELAY;
  server.relay_timeout = orDefault(server.relay_timeout, DEFAULT_POOL_TIMEOUT);

  const tcp = (config.tcp ??= TcpOptions.create());
  if (tcp.read_buf_size === 0) tcp.read_buf_size = DEFAULT_READ_BUF_SIZE_MB;
  if (tcp.context_codec === ContextCodec.UNSPECIFIED) tcp.context_codec = ContextCodec.JSON;
  if (tcp.max_buffered_bytes === 0) tcp.max_buffered_bytes = DEFAULT_MAX_BUFFERED_BYTES;
  for (const options of Object.values(tcp.servers)) {
    if (options.delimiter === "") options.delimiter = DEFAULT_DELIMITER;
    if (options.framing === Framing.UNSPECIFIED) options.framing = Framing.DELIMITER;
    if (options.routing === Routing.UNSPECIFIED) options.routing = Routing.ANY;
    if (options.length_bytes === 0) options.length_bytes = DEFAULT_LENGTH_BYTES;
    if (options.max_message_size === 0) options.max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  }

  const pool = (tcp.pool ??= PoolOptions.create());
  if (pool.num_workers === 0) pool.num_workers = Math.max(1, cpuCount);
  pool.allocate_timeout = orDefault(pool.allocate_timeout, DEFAULT_POOL_TIMEOUT);
  pool.destroy_timeout = orDefault(pool.destroy_timeout, DEFAULT_POOL_TIMEOUT);
  pool.reset_timeout = orDefault(pool.reset_timeout, DEFAULT_POOL_TIMEOUT);
  pool.stream_timeout = orDefault(pool.stream_timeout, DEFAULT_POOL_TIMEOUT);
  if (pool.supervisor) pool.supervisor.watch_tick = orDefault(pool.supervisor.watch_tick, DEFAULT_WATCH_TICK);

  const logs = (config.logs ??= LogsOptions.create());
  if (logs.level === "") logs.level = DEFAULT_LOG_LEVEL;
  return config;
}

/** The worker command line: tcp.pool.command when set, else server.command. */
export function workerCommand(config: Config): string[] {
  const own = config.tcp?.pool?.command ?? [];
  return own.length > 0 ? own : (config.server?.command ?? []);
}
