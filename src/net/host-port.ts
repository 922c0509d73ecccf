/**
 * `host:port` as RoadRunner writes addresses: an IPv6 host in brackets (`[::1]:6001`), a port
 * 0..65535. Shared by relay addresses and the server's listen addresses, which wrap the reason
 * in their own errors. The host is checked in full here (an IPv4 address octet by octet, a
 * name label by label), so that a config that validates is one whose addresses can be used:
 * `999.1.1.1` would otherwise pass as a "host name" and fail only at listen time.
 */
import { isIP } from "node:net";
import { LIMITS } from "../limits.js";

const PORT = /^[0-9]{1,5}$/;
/** Only digits and dots: meant as an IPv4 address (a resolver reads it so), never a name. */
const IPV4_LIKE = /^[0-9.]+$/;
/** One RFC 1123 label: letters, digits and hyphens, neither first nor last a hyphen. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
/** RFC 1035's bounds, which RFC 1123 keeps: a label of 63 bytes, a name of 253 (without the final dot). */
const MAX_LABEL = 63;
const MAX_NAME = 253;

/** The host (without brackets; possibly empty) and port, or why `text` is not `host:port`. */
export function splitHostPort(text: string): { host: string; port: number } | { problem: string } {
  let host: string;
  let port: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") return { problem: "an IPv6 host must be written [host]:port" };
    host = text.slice(1, close);
    port = text.slice(close + 2);
    if (isIP(host) !== 6) return { problem: `"${host}" is not an IPv6 address` };
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) return { problem: "the port is missing" };
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
    if (host.includes(":")) return { problem: "an IPv6 host must be written in brackets, [host]:port" };
    if (/[\s/?#@[\]]/.test(host)) return { problem: `"${host}" is not a host name` };
    const problem = hostProblem(host);
    if (problem !== undefined) return { problem };
  }
  if (!PORT.test(port) || Number(port) > 65535) return { problem: `the port "${port}" is not a number 0..65535` };
  return { host, port: Number(port) };
}

/** Why `host` (not bracketed; empty allowed, for "every interface") is neither an IPv4 address nor a host name. */
function hostProblem(host: string): string | undefined {
  if (host === "") return undefined;
  if (IPV4_LIKE.test(host)) {
    if (isIP(host) === 4) return undefined;
    const octets = host.split(".");
    const bad = octets.find(
      (octet) => octet === "" || Number(octet) > 255 || (octet.length > 1 && octet.startsWith("0")),
    );
    const why =
      octets.length !== 4
        ? `it has ${octets.length} parts, not 4`
        : bad === ""
          ? "an octet is empty"
          : `octet ${bad} is not 0..255 (without leading zeros)`;
    return `"${host}" is not an IPv4 address: ${why}`;
  }
  const name = host.endsWith(".") ? host.slice(0, -1) : host; // a fully qualified name's final dot
  if (name.length > MAX_NAME) return `"${host}" is not a host name: it is longer than ${MAX_NAME} characters`;
  for (const label of name.split(".")) {
    if (label === "") return `"${host}" is not a host name: it has an empty label`;
    if (label.length > MAX_LABEL)
      return `"${host}" is not a host name: the label "${label.slice(0, 16)}..." is longer than ${MAX_LABEL} characters`;
    if (!LABEL.test(label))
      return `"${host}" is not a host name: the label "${label}" may hold only letters, digits and hyphens, and not start or end with a hyphen`;
  }
  return undefined;
}

/** Why `path` cannot be a unix socket's path (empty, a NUL, longer than sun_path holds), or undefined. */
export function unixPathProblem(path: string): string | undefined {
  if (path === "") return "the unix socket path is empty";
  if (path.includes("\0")) return "the unix socket path contains NUL";
  const bytes = Buffer.byteLength(path);
  const limit = LIMITS.unixSocketPath;
  if (bytes > limit.value)
    return `the unix socket path is ${bytes} bytes, longer than ${limit.value} bytes (${limit.what}: the kernel's sun_path)`;
  return undefined;
}
