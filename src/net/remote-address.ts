import { isIP } from "node:net";
import type { Socket } from "node:net";

/** A peer address as Go's `RemoteAddr().String()` prints it: `ip:port`, `[ipv6]:port`, IPv4-mapped unmapped. */
export function remoteAddressOf(socket: Socket): string {
  let host = socket.remoteAddress;
  if (host === undefined) return "";
  if (host.startsWith("::ffff:") && isIP(host.slice(7)) === 4) host = host.slice(7);
  return `${isIP(host) === 6 ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
}
