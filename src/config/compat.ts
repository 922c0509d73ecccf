/**
 * The warning for a key accepted for compatibility only (origin compat in the schema: RoadRunner
 * reads it, rr-tcp does not): a RoadRunner config keeps loading, and its author learns the key has
 * no effect here. One rule covers every such key; a few keys say more, where there is something
 * to do instead.
 */
import type { ConfigIssue } from "./errors.js";

/** The general warning. */
export const COMPAT_MESSAGE = "accepted for compatibility and not used by rr-tcp";

/** Keys (`Message.key`) with more to say than the general rule; each gets the value as shown in messages. */
const SPECIFIC: Readonly<Record<string, (shown: string) => string>> = {
  "ServerOptions.user": (shown) => `${shown} ignored: rr-tcp runs workers as its own user`,
  "ServerOptions.group": (shown) => `${shown} ignored: rr-tcp runs workers as its own user`,
  "TcpServerOptions.read_buf_size": () =>
    "ignored: older RoadRunner docs put it per server; the tcp plugin reads only tcp.read_buf_size",
  "PoolOptions.dynamic_allocator": () =>
    `${COMPAT_MESSAGE}: it keeps num_workers (change it at run time with informer.AddWorker / RemoveWorker)`,
  "LogsOptions.err_output": () => `${COMPAT_MESSAGE}: errors go where the rest goes (logs.output)`,
};

/** The warning for the compat key `key` of the options message `message`, set at `path`. */
export function compatWarning(message: string, key: string, path: string, shown: string): ConfigIssue {
  return { path, message: SPECIFIC[`${message}.${key}`]?.(shown) ?? COMPAT_MESSAGE };
}

/**
 * Whether a decoded value says anything: not empty, zero or false (which mean "the default"), and
 * for a section, some key in it is set. `user: ""` in a RoadRunner sample is not worth a warning.
 */
export function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === "" || value === 0 || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") {
    const entries = Object.entries(value);
    // A Duration: { seconds, nanos }.
    if (entries.every(([key]) => key === "seconds" || key === "nanos")) return entries.some(([, v]) => v !== 0);
    return entries.some(([, v]) => isSet(v));
  }
  return true;
}
