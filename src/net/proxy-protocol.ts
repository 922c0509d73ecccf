/**
 * The PROXY protocol header a load balancer (HAProxy's `send-proxy`, `send-proxy-v2`; AWS NLB,
 * nginx's `proxy_protocol on`) writes at the start of a connection to say which client it carries
 * (docs/proxy-protocol.md). Versions 1 (one text line) and 2 (binary), parsed from however many
 * bytes have arrived: a header read a byte at a time is never an error, only an incomplete one.
 *
 * Pure bytes in, header out: reading the socket, trusting the sender and the timeout are
 * src/server's (proxy-header-reader.ts).
 */
import { isIPv4, isIPv6 } from "node:net";
import { RrTcpError, type RrTcpErrorOptions } from "../errors.js";

/** Why a header was refused: the label of its counter too. */
export const PROXY_HEADER_PROBLEMS = ["missing", "malformed", "oversized", "untrusted", "timeout"] as const;
export type ProxyHeaderProblem = (typeof PROXY_HEADER_PROBLEMS)[number];

export class ProxyHeaderError extends RrTcpError<"PROXY_HEADER"> {
  /**
   * The peer left without sending a byte: what a balancer's TCP health check does (connect,
   * close), so it is counted but not worth a warning.
   */
  readonly silent: boolean;

  constructor(
    readonly problem: ProxyHeaderProblem,
    message: string,
    options?: RrTcpErrorOptions & { silent?: boolean },
  ) {
    super("PROXY_HEADER", message, options);
    this.silent = options?.silent ?? false;
  }
}

/** An endpoint the header names. */
export interface ProxyEndpoint {
  readonly family: "IPv4" | "IPv6";
  readonly address: string;
  readonly port: number;
}

/** What a complete header says. */
export interface ProxyHeader {
  readonly version: 1 | 2;
  /**
   * PROXY: the connection carries the client `source`. LOCAL (v2), or a v1 `UNKNOWN` line: the
   * balancer speaks for itself (a health check) or the family is not IP; no addresses then.
   */
  readonly command: "PROXY" | "LOCAL";
  readonly source?: ProxyEndpoint;
  readonly destination?: ProxyEndpoint;
}

/** The result of looking at the bytes received so far. */
export type ProxyParse =
  | { readonly kind: "incomplete" }
  /** `length`: the header's bytes at the start of the input; what follows is the client's. */
  | { readonly kind: "header"; readonly header: ProxyHeader; readonly length: number };

/** The v1 line's limit, CRLF included (the specification's 107 bytes). */
export const MAX_V1_LENGTH = 107;
/**
 * The largest v2 header accepted: 16 bytes and the address block with its TLVs. The format allows
 * 64 KiB; balancers send well under 1 KiB (addresses, and TLVs such as ALPN, an authority or a
 * cloud's endpoint id), so a larger block is refused rather than buffered.
 */
export const MAX_V2_LENGTH = 16 + 2048;

const V1_PREFIX = Buffer.from("PROXY ", "latin1");
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED = 16;
const PORT = /^(0|[1-9][0-9]{0,4})$/;

/**
 * Reads the header at the start of `bytes`: complete, incomplete (more bytes needed), or refused.
 *
 * @throws ProxyHeaderError "missing" when the bytes cannot start a header of either version,
 *   "malformed" for a header that breaks the specification, "oversized" past the limits above.
 */
export function parseProxyHeader(bytes: Buffer): ProxyParse {
  if (startsLike(bytes, V1_PREFIX)) return bytes.length < V1_PREFIX.length ? INCOMPLETE : parseV1(bytes);
  if (startsLike(bytes, V2_SIGNATURE)) return bytes.length < V2_FIXED ? INCOMPLETE : parseV2(bytes);
  throw new ProxyHeaderError(
    "missing",
    `no PROXY protocol header: the connection starts with ${quote(bytes.subarray(0, 16))}`,
  );
}

const INCOMPLETE: ProxyParse = { kind: "incomplete" };

// True when `bytes` and `prefix` agree on their common length: `bytes` may still become it.
function startsLike(bytes: Buffer, prefix: Buffer): boolean {
  const n = Math.min(bytes.length, prefix.length);
  return bytes.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(bytes: Buffer): ProxyParse {
  const end = bytes.indexOf("\r\n", 0, "latin1");
  if (end < 0 || end + 2 > MAX_V1_LENGTH) {
    if (bytes.length >= MAX_V1_LENGTH) {
      throw new ProxyHeaderError(
        "oversized",
        `PROXY v1 header: no CRLF within ${MAX_V1_LENGTH} bytes (${quote(bytes.subarray(0, 40))}...)`,
      );
    }
    const stray = bytes.indexOf("\n", 0, "latin1");
    if (stray >= 0) throw malformedV1(bytes.subarray(0, stray + 1), "a line feed without a carriage return before it");
    return INCOMPLETE;
  }
  const line = bytes.toString("latin1", 0, end);
  const fields = line.split(" ");
  const length = end + 2;
  if (fields[1] === "UNKNOWN") return { kind: "header", header: { version: 1, command: "LOCAL" }, length };
  if (fields.length !== 6)
    throw malformedV1(line, `6 fields separated by single spaces expected, got ${fields.length}`);
  const [, protocol, source, destination, sourcePort, destinationPort] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  let family: "IPv4" | "IPv6";
  if (protocol === "TCP4") family = "IPv4";
  else if (protocol === "TCP6") family = "IPv6";
  else throw malformedV1(line, `protocol ${JSON.stringify(protocol)} is not TCP4, TCP6 or UNKNOWN`);
  const valid = family === "IPv4" ? isIPv4 : isIPv6;
  for (const [what, address] of [
    ["source", source],
    ["destination", destination],
  ] as const) {
    if (!valid(address)) throw malformedV1(line, `${what} address ${JSON.stringify(address)} is not ${family}`);
  }
  return {
    kind: "header",
    header: {
      version: 1,
      command: "PROXY",
      source: { family, address: family === "IPv6" ? source.toLowerCase() : source, port: v1Port(line, sourcePort) },
      destination: {
        family,
        address: family === "IPv6" ? destination.toLowerCase() : destination,
        port: v1Port(line, destinationPort),
      },
    },
    length,
  };
}

function v1Port(line: string, text: string): number {
  const port = PORT.test(text) ? Number(text) : NaN;
  if (!(port <= 65535)) throw malformedV1(line, `port ${JSON.stringify(text)} is not a number 0..65535`);
  return port;
}

function malformedV1(line: string | Buffer, why: string): ProxyHeaderError {
  const text = typeof line === "string" ? line : line.toString("latin1");
  return new ProxyHeaderError("malformed", `PROXY v1 header ${quote(Buffer.from(text, "latin1"))}: ${why}`);
}

// v2: the signature, version and command (0x20 LOCAL, 0x21 PROXY), family and transport, the
// length of the address block (big-endian), then the addresses and any TLVs (skipped).
function parseV2(bytes: Buffer): ProxyParse {
  const versionCommand = bytes[12] as number;
  const familyTransport = bytes[13] as number;
  const blockLength = bytes.readUInt16BE(14);
  const length = V2_FIXED + blockLength;
  if (versionCommand >> 4 !== 2) {
    throw malformedV2(`version ${versionCommand >> 4} (byte 12 is 0x${hex(versionCommand)}); only 2 is defined`);
  }
  const command = versionCommand & 0x0f;
  if (command > 1)
    throw malformedV2(`command ${command} (byte 12 is 0x${hex(versionCommand)}) is neither LOCAL nor PROXY`);
  if (length > MAX_V2_LENGTH) {
    throw new ProxyHeaderError(
      "oversized",
      `PROXY v2 header of ${length} bytes (address block ${blockLength}); at most ${MAX_V2_LENGTH} are accepted`,
    );
  }
  if (bytes.length < length) return INCOMPLETE;
  if (command === 0) return { kind: "header", header: { version: 2, command: "LOCAL" }, length };
  const family = familyTransport >> 4;
  const transport = familyTransport & 0x0f;
  // UNSPEC, or a unix socket: nothing that is a client's IP address. Kept as LOCAL: the socket's
  // own peer stays the remote address.
  if (family === 0 || family === 3) return { kind: "header", header: { version: 2, command: "LOCAL" }, length };
  if (family > 3) throw malformedV2(`address family ${family} (byte 13 is 0x${hex(familyTransport)}) is not defined`);
  if (transport !== 1) {
    throw malformedV2(
      `transport ${transport} (byte 13 is 0x${hex(familyTransport)}) is not STREAM: a TCP server carries streams`,
    );
  }
  const block = bytes.subarray(V2_FIXED, length);
  const addressBytes = family === 1 ? 4 : 16;
  const need = 2 * addressBytes + 4;
  if (block.length < need) {
    throw malformedV2(
      `an ${family === 1 ? "IPv4" : "IPv6"} address block needs ${need} bytes, the header gives ${block.length}`,
    );
  }
  const format = family === 1 ? formatIPv4 : formatIPv6;
  const ipFamily = family === 1 ? "IPv4" : "IPv6";
  return {
    kind: "header",
    header: {
      version: 2,
      command: "PROXY",
      source: { family: ipFamily, address: format(block, 0), port: block.readUInt16BE(2 * addressBytes) },
      destination: {
        family: ipFamily,
        address: format(block, addressBytes),
        port: block.readUInt16BE(2 * addressBytes + 2),
      },
    },
    length,
  };
}

function malformedV2(why: string): ProxyHeaderError {
  return new ProxyHeaderError("malformed", `PROXY v2 header: ${why}`);
}

function formatIPv4(bytes: Buffer, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * RFC 5952's text form: lower case, no leading zeros, the longest run of two or more zero groups
 * as `::`, an IPv4-mapped address as `::ffff:a.b.c.d`.
 */
export function formatIPv6(bytes: Buffer, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(offset + 2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const text = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(":");
  if (bestStart < 0) return text(0, 8);
  return `${text(0, bestStart)}::${text(bestStart + bestLength, 8)}`;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function quote(bytes: Buffer): string {
  return JSON.stringify(bytes.toString("latin1"));
}
