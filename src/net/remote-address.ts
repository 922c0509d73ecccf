import { isIP } from "node:net";
import type { Socket } from "node:net";

/** An address as Go's `net.JoinHostPort` prints it: `ip:port`, `[ipv6]:port`, IPv4-mapped unmapped. */
export function formatRemoteAddress(host: string, port: number): string {
  if (host.startsWith("::ffff:") && isIP(host.slice(7)) === 4) host = host.slice(7);
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** A peer address as Go's `RemoteAddr().String()` prints it (see {@link formatRemoteAddress}). */
export function remoteAddressOf(socket: Socket): string {
  const host = socket.remoteAddress;
  if (host === undefined) return "";
  return formatRemoteAddress(host, socket.remotePort ?? 0);
}
