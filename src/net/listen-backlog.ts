/**
 * The accept queue length rr-tcp asks for: the kernel's own limit (`net.core.somaxconn`), as Go's
 * net package (and so RoadRunner) does, instead of Node's default of 511. A burst of connections
 * longer than the queue overflows it: the kernel drops handshakes and answers with SYN cookies,
 * clients wait a second for their retransmitted SYN, and under cookies an overflowing burst can
 * leave server-side sockets no client holds (docs/behaviour.md#accept-queue).
 */
import { readFileSync } from "node:fs";

// Node's own default, where /proc cannot be read (not Linux).
const NODE_DEFAULT = 511;
// The largest the kernel takes (the field is 16 bits in older kernels), as Go caps it.
const MAX = 65_535;

let cached: number | undefined;

/** The backlog to pass to `listen()`: somaxconn, at most 65535; 511 where it cannot be read. */
export function listenBacklog(): number {
  if (cached !== undefined) return cached;
  cached = NODE_DEFAULT;
  try {
    const value = Number.parseInt(readFileSync("/proc/sys/net/core/somaxconn", "latin1").trim(), 10);
    if (Number.isInteger(value) && value > 0) cached = Math.min(value, MAX);
  } catch {
    // No /proc: Node's default stands.
  }
  return cached;
}
