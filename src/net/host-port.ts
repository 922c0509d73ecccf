/**
 * `host:port` as RoadRunner writes addresses: an IPv6 host in brackets (`[::1]:6001`), a port
 * 0..65535. Shared by relay addresses and the server's listen addresses, which wrap the reason
 * in their own errors.
 */
import { isIP } from "node:net";

const PORT = /^[0-9]{1,5}$/;

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
  }
  if (!PORT.test(port) || Number(port) > 65535) return { problem: `the port "${port}" is not a number 0..65535` };
  return { host, port: Number(port) };
}
