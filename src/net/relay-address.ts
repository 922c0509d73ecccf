/**
 * Relay addresses in RoadRunner syntax (`server.relay`, `RR_RELAY`): `pipes`, `tcp://host:port`,
 * `unix:///absolute.sock` or `unix://relative.sock`.
 */
import { AddressError } from "./errors.js";
import { splitHostPort, unixPathProblem } from "./host-port.js";
import type { SocketAddress } from "./socket-address.js";

/** Where a worker's frames travel. */
export type RelayAddress = { readonly kind: "pipes" } | SocketAddress;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;

/**
 * Parses a relay address. The tcp host is lower-cased (as PHP's goridge does); an IPv6 host is
 * written in brackets (`tcp://[::1]:6001`) and returned without them. Port 0 is accepted, for a
 * listener that picks a free port.
 *
 * @throws AddressError naming the value and what is allowed.
 */
export function parseRelayAddress(s: string): RelayAddress {
  if (s === "pipes") return { kind: "pipes" };
  const match = SCHEME.exec(s);
  if (match === null) {
    throw relayAddressError(s, 'it is neither "pipes" nor scheme://address');
  }
  const scheme = (match[1] as string).toLowerCase();
  const rest = match[2] as string;
  switch (scheme) {
    case "tcp":
      return parseTcp(s, rest);
    case "unix": {
      const problem = unixPathProblem(rest);
      if (problem !== undefined) throw relayAddressError(s, problem);
      return { kind: "unix", path: rest };
    }
    case "pipes":
      throw relayAddressError(s, 'pipes takes no address; write just "pipes"');
    default:
      throw relayAddressError(s, `unknown scheme "${scheme}"`);
  }
}

/** Formats an address back into RoadRunner syntax; inverse of {@link parseRelayAddress}. */
export function formatRelayAddress(a: RelayAddress): string {
  switch (a.kind) {
    case "pipes":
      return "pipes";
    case "tcp":
      return `tcp://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
    case "unix":
      return `unix://${a.path}`;
  }
}

function parseTcp(s: string, rest: string): RelayAddress {
  const parsed = splitHostPort(rest);
  if ("problem" in parsed) throw relayAddressError(s, parsed.problem);
  if (parsed.host === "") throw relayAddressError(s, "the host is empty");
  return { kind: "tcp", host: parsed.host.toLowerCase(), port: parsed.port };
}

/** A relay address that is not in RoadRunner syntax: names the value and what is allowed. */
export function relayAddressError(value: string, reason: string): AddressError {
  return new AddressError(
    value,
    "relay",
    `bad relay address ${JSON.stringify(value)}: ${reason}; ` +
      'expected "pipes", "tcp://host:port" or "unix:///path/to.sock"',
  );
}
