/**
 * Listen addresses as RoadRunner's tcplisten takes them: `host:port`, `tcp://host:port`,
 * `[::1]:port`, `:port` (every interface) and `unix:///path.sock`.
 */
import { isIP } from "node:net";

/** Where a server listens. */
export type ListenAddress =
  | { readonly kind: "tcp"; /** Empty = every interface. */ readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

/** The address could not be parsed; `message` says what is allowed. */
export class AddressError extends Error {
  readonly code = "BAD_ADDRESS";
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(message);
    this.name = "AddressError";
  }
}

const ALLOWED = "allowed: host:port, tcp://host:port, [::1]:port, unix:///path.sock";

/** Parses a listen address. @throws AddressError */
export function parseListenAddress(address: string): ListenAddress {
  const text = address.trim();
  if (text.startsWith("unix://")) {
    const path = text.slice("unix://".length);
    if (path === "") throw new AddressError(address, `${JSON.stringify(address)} has no socket path (${ALLOWED})`);
    return { kind: "unix", path };
  }
  let hostPort = text;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== "tcp") throw new AddressError(address, `${JSON.stringify(address)}: invalid protocol ${JSON.stringify(scheme[1])} (${ALLOWED})`);
    hostPort = text.slice(scheme[0].length);
  }
  const colon = hostPort.lastIndexOf(":");
  if (colon < 0) throw new AddressError(address, `${JSON.stringify(address)} has no port (${ALLOWED})`);
  let host = hostPort.slice(0, colon);
  const portText = hostPort.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw new AddressError(address, `${JSON.stringify(address)}: ${JSON.stringify(host)} is not an IPv6 address`);
  } else if (host.includes(":")) {
    throw new AddressError(address, `${JSON.stringify(address)}: write IPv6 hosts in brackets, e.g. [::1]:7000`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new AddressError(address, `${JSON.stringify(address)}: the port must be 0..65535, got ${JSON.stringify(portText)}`);
  }
  if (/[\s/]/.test(host)) throw new AddressError(address, `${JSON.stringify(address)}: ${JSON.stringify(host)} is not a host name (${ALLOWED})`);
  return { kind: "tcp", host, port: Number(portText) };
}

/** The address as a string, the way it is logged: `127.0.0.1:7000`, `[::1]:7000`, `unix:///run/x.sock`. */
export function formatListenAddress(address: ListenAddress): string {
  if (address.kind === "unix") return `unix://${address.path}`;
  return `${isIP(address.host) === 6 ? `[${address.host}]` : address.host}:${address.port}`;
}
