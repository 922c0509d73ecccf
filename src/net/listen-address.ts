/**
 * Listen addresses as RoadRunner's tcplisten takes them: `host:port`, `tcp://host:port`,
 * `[::1]:port`, `:port` (every interface) and `unix:///path.sock`.
 */
import { isIP } from "node:net";
import { AddressError } from "./errors.js";
import { splitHostPort, unixPathProblem } from "./host-port.js";
import type { SocketAddress } from "./socket-address.js";

/** Where a server listens. */
export type ListenAddress = SocketAddress;

const ALLOWED = "allowed: host:port, tcp://host:port, [::1]:port, unix:///path.sock";

/** Parses a listen address. @throws AddressError */
export function parseListenAddress(address: string): ListenAddress {
  const text = address.trim();
  if (text.startsWith("unix://")) {
    const path = text.slice("unix://".length);
    if (path === "")
      throw new AddressError(address, "listen", `${JSON.stringify(address)} has no socket path (${ALLOWED})`);
    const problem = unixPathProblem(path);
    if (problem !== undefined) throw new AddressError(address, "listen", `${JSON.stringify(address)}: ${problem}`);
    return { kind: "unix", path };
  }
  let hostPort = text;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== "tcp")
      throw new AddressError(
        address,
        "listen",
        `${JSON.stringify(address)}: invalid protocol ${JSON.stringify(scheme[1])} (${ALLOWED})`,
      );
    hostPort = text.slice(scheme[0].length);
  }
  const parsed = splitHostPort(hostPort);
  if ("problem" in parsed)
    throw new AddressError(address, "listen", `${JSON.stringify(address)}: ${parsed.problem} (${ALLOWED})`);
  return { kind: "tcp", host: parsed.host, port: parsed.port };
}

/** The address as a string, the way it is logged: `127.0.0.1:7000`, `[::1]:7000`, `unix:///run/x.sock`. */
export function formatListenAddress(address: ListenAddress): string {
  if (address.kind === "unix") return `unix://${address.path}`;
  return `${isIP(address.host) === 6 ? `[${address.host}]` : address.host}:${address.port}`;
}
