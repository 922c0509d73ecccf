/**
 * Every size limit of rr-tcp, in one place. Each says what it bounds, its value, and the config
 * key that changes it (none for the fixed ones), so that an error about a limit can name it and
 * a reader can find them all here. The codec and the framers take the numbers as arguments; this
 * module is what rr-tcp passes them.
 *
 * The configurable limits' defaults are the schema's (src/options); this module imports nothing
 * else of rr-tcp, so every folder may use it.
 */
import { defaultNumber, keyFacts } from "./options/index.js";
const KiB = 1024;
const MiB = 1024 * KiB;

/** A bound on a size (bytes), a count, or a time (milliseconds). */
export interface Limit {
  /** What is bounded, for messages: "a worker frame's payload". */
  readonly what: string;
  /** The value when nothing configures it. */
  readonly value: number;
  readonly unit: "bytes" | "connections" | "workers" | "lines" | "levels" | "files" | "milliseconds";
  /** The config key that sets it; absent for a fixed limit. */
  readonly key?: string;
}

export const LIMITS = {
  /** A goridge frame's payload from a worker: its reply (context + body). Bounds what one reply makes the server hold. */
  framePayload: {
    what: "a worker frame's payload",
    value: defaultNumber("PoolOptions", "max_frame_size"),
    unit: "bytes",
    key: "tcp.pool.max_frame_size",
  },
  /** One client message under delimiter or length framing; longer closes the connection. */
  message: {
    what: "a client message",
    value: defaultNumber("TcpServerOptions", "max_message_size"),
    unit: "bytes",
    key: "tcp.servers.<name>.max_message_size",
  },
  /** Bytes all connections hold at once waiting for the rest of a message. */
  bufferedBytes: {
    what: "the bytes held for incomplete client messages",
    value: defaultNumber("TcpOptions", "max_buffered_bytes"),
    unit: "bytes",
    key: "tcp.max_buffered_bytes",
  },
  /**
   * An RPC request frame: a uuid or a plugin name, or a push's bytes in base64 (tcp.Write,
   * tcp.Broadcast: about 190 KiB of bytes per call). With one request read at a time per
   * connection and LIMITS.rpcConnections, it bounds what RPC callers make the server hold (64 MiB);
   * more bytes are pushed in several calls.
   */
  rpcPayload: { what: "an RPC request's payload", value: 256 * KiB, unit: "bytes" },
  /** An RPC method name: longer than any "Service.Method"; error replies quote it, so it stays short. */
  rpcMethodName: { what: "an RPC method name", value: 256, unit: "bytes" },
  /**
   * RPC callers at once: workers and operators' tools, a handful at a time. With the payload
   * limit and one request read at a time, this bounds what callers can make the server hold, and
   * keeps them from the file descriptors the TCP listeners need.
   */
  rpcConnections: { what: "open RPC connections", value: 256, unit: "connections" },
  /**
   * Connections at once to each HTTP endpoint (control.addr, status.address, metrics.address):
   * probes and scrapers, a few at a time. Past it the oldest idle keep-alive connection is closed.
   */
  httpConnections: { what: "open connections to an HTTP endpoint", value: 128, unit: "connections" },
  /**
   * Client connections the primary of tcp.processes holds while no server process is ready (all
   * of them starting again): handed out once one is; past it a new one is closed at once.
   */
  connectionsWaiting: { what: "connections waiting for a server process", value: 1024, unit: "connections" },
  /** A control API request's body: the bytes of a push (POST /connections/<uuid>/write), as an RPC push's. */
  httpBody: { what: "an HTTP request's body", value: 256 * KiB, unit: "bytes" },
  /** Until an HTTP request's headers are in (Node's headersTimeout), also for a connection that sends nothing. */
  httpHeaders: { what: "an HTTP request's headers", value: 10_000, unit: "milliseconds" },
  /** Until a whole HTTP request is in (Node's requestTimeout): the routes take no body worth waiting for. */
  httpRequest: { what: "an HTTP request", value: 30_000, unit: "milliseconds" },
  /** An idle keep-alive HTTP connection (Node's keepAliveTimeout, its default). */
  httpKeepAlive: { what: "an idle keep-alive HTTP connection", value: 5_000, unit: "milliseconds" },
  /** One line of a worker's stderr; a longer one is logged in pieces of this size. */
  workerOutputLine: { what: "a line of worker output", value: 16 * KiB, unit: "bytes" },
  /**
   * One log record of a worker's output (lines that came together, a stack trace): a worker that
   * writes without pause gets records of at most this many bytes and lines, not one endless one.
   */
  workerOutputRecord: { what: "a log record of worker output", value: 64 * KiB, unit: "bytes" },
  workerOutputRecordLines: { what: "the lines of a log record of worker output", value: 256, unit: "lines" },
  /** Workers in the pool's config (RoadRunner's limit). */
  configuredWorkers: {
    what: "tcp.pool.num_workers",
    value: Number(keyFacts("PoolOptions", "num_workers").max),
    unit: "workers",
    key: "tcp.pool.num_workers",
  },
  /**
   * A unix socket path: Linux's sun_path holds 108 bytes with the terminating NUL, so a longer
   * path fails only at bind time (or is cut short). Checked when the address is parsed.
   */
  unixSocketPath: { what: "a unix socket path", value: 107, unit: "bytes" },
  /**
   * A config file: a .rr.yaml is a few KiB; anything near this is a mistake or an attack, and the
   * whole text is held and parsed at once.
   */
  configFile: { what: "a config file", value: 1 * MiB, unit: "bytes" },
  /** Nesting of a config's YAML: the schema is a few levels deep; deeper data is refused before it is walked. */
  configDepth: { what: "the nesting depth of a config", value: 64, unit: "levels" },
  /**
   * The files a config's `include` list names. A split .rr.yaml has a handful; each is read whole
   * (up to LIMITS.configFile) and held until all are merged, so the list is bounded too.
   */
  configIncludes: { what: "the files a config includes", value: 64, unit: "files" },
  /** Workers after informer.AddWorker calls (RoadRunner's runtime limit). */
  runtimeWorkers: { what: "workers added at run time", value: 2048, unit: "workers" },
} as const satisfies Record<string, Limit>;

/** `268435456 bytes (256 MiB, tcp.pool.max_frame_size)`: a limit as messages name it. */
export function describeLimit(limit: Limit, value: number = limit.value): string {
  const human = limit.unit === "bytes" && value >= KiB ? `${humanBytes(value)}, ` : "";
  return `${value} ${limit.unit} (${human}${limit.key ?? "fixed"})`;
}

function humanBytes(n: number): string {
  if (n % MiB === 0) return `${n / MiB} MiB`;
  if (n % KiB === 0) return `${n / KiB} KiB`;
  return `${(n / KiB).toFixed(1)} KiB`;
}
