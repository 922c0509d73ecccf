/**
 * The PROXY protocol parser (src/net/proxy-protocol.ts): both versions, every split of the bytes,
 * and what it refuses, with the reason. Headers are built here from the specification's layout,
 * independently of the parser.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatIPv6, MAX_V1_LENGTH, parseProxyHeader, ProxyHeaderError, type ProxyParse } from "../../src/net/index.js";
import { parseTrustedSources } from "../../src/net/index.js";

const SIGNATURE = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

/** A v2 header: signature, version 2 and the command, family/transport, length, block. */
function v2(command: number, familyTransport: number, block: Buffer): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = 0x20 | command;
  fixed[1] = familyTransport;
  fixed.writeUInt16BE(block.length, 2);
  return Buffer.concat([SIGNATURE, fixed, block]);
}

function ipv4Block(src: number[], dst: number[], srcPort: number, dstPort: number, tlvs = Buffer.alloc(0)): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(srcPort, 0);
  ports.writeUInt16BE(dstPort, 2);
  return Buffer.concat([Buffer.from(src), Buffer.from(dst), ports, tlvs]);
}

function ipv6Block(src: Buffer, dst: Buffer, srcPort: number, dstPort: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(srcPort, 0);
  ports.writeUInt16BE(dstPort, 2);
  return Buffer.concat([src, dst, ports]);
}

function refusal(bytes: Buffer): ProxyHeaderError {
  try {
    parseProxyHeader(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyHeaderError);
    return err as ProxyHeaderError;
  }
  throw new Error(`not refused: ${bytes.toString("latin1")}`);
}

/** Feeds `bytes` one more byte at a time: every strict prefix is incomplete, the whole is a header. */
function byteByByte(bytes: Buffer): ProxyParse {
  for (let n = 0; n < bytes.length; n++) expect(parseProxyHeader(bytes.subarray(0, n))).toEqual({ kind: "incomplete" });
  return parseProxyHeader(bytes);
}

describe("PROXY protocol v1", () => {
  it("TCP4 and TCP6 lines give the client and the header's length; what follows is left alone", () => {
    const line = Buffer.from("PROXY TCP4 192.0.2.10 198.51.100.1 56324 7000\r\n");
    expect(byteByByte(line)).toEqual({
      kind: "header",
      length: line.length,
      header: {
        version: 1,
        command: "PROXY",
        source: { family: "IPv4", address: "192.0.2.10", port: 56324 },
        destination: { family: "IPv4", address: "198.51.100.1", port: 7000 },
      },
    });
    const withData = Buffer.concat([line, Buffer.from("hello\r\n")]);
    expect(parseProxyHeader(withData)).toMatchObject({ kind: "header", length: line.length });
    const six = Buffer.from("PROXY TCP6 2001:DB8::1 ::1 65535 0\r\n");
    expect(byteByByte(six)).toMatchObject({
      header: { source: { family: "IPv6", address: "2001:db8::1", port: 65535 }, destination: { port: 0 } },
    });
  });

  it("UNKNOWN is a header without addresses, whatever follows it on the line", () => {
    expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n"))).toEqual({
      kind: "header",
      length: 15,
      header: { version: 1, command: "LOCAL" },
    });
    expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN ffff::1 ::1 1 2\r\nx"))).toMatchObject({ length: 31 });
  });

  it.each([
    ["PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", /protocol "TCP5" is not TCP4, TCP6 or UNKNOWN/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", /6 fields separated by single spaces expected, got 5/],
    ["PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", /6 fields .* got 7/],
    ["PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n", /source address "1.2.3.999" is not IPv4/],
    ["PROXY TCP4 ::1 5.6.7.8 1 2\r\n", /source address "::1" is not IPv4/],
    ["PROXY TCP6 ::1 5.6.7.8 1 2\r\n", /destination address "5.6.7.8" is not IPv6/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", /port "65536" is not a number 0..65535/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", /port "01" is not a number/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", /port "-1" is not a number/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", /a line feed without a carriage return/],
  ])("%j is malformed: %s", (text, why) => {
    const err = refusal(Buffer.from(text, "latin1"));
    expect(err.problem).toBe("malformed");
    expect(err.message).toMatch(why);
  });

  it("a line without CRLF within 107 bytes is oversized, however it arrives", () => {
    const long = Buffer.from(`PROXY TCP4 ${"1".repeat(120)}`);
    expect(parseProxyHeader(long.subarray(0, MAX_V1_LENGTH - 1))).toEqual({ kind: "incomplete" });
    const err = refusal(long.subarray(0, MAX_V1_LENGTH));
    expect(err.problem).toBe("oversized");
    expect(err.message).toMatch(/no CRLF within 107 bytes/);
    expect(refusal(Buffer.concat([long, Buffer.from("\r\n")])).problem).toBe("oversized");
  });
});

describe("PROXY protocol v2", () => {
  it("PROXY over TCP/IPv4 gives the client; TLVs after the addresses are skipped", () => {
    const tlv = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]); // ALPN "h2"
    const header = v2(1, 0x11, ipv4Block([203, 0, 113, 7], [10, 0, 0, 1], 40000, 7000, tlv));
    expect(byteByByte(header)).toEqual({
      kind: "header",
      length: header.length,
      header: {
        version: 2,
        command: "PROXY",
        source: { family: "IPv4", address: "203.0.113.7", port: 40000 },
        destination: { family: "IPv4", address: "10.0.0.1", port: 7000 },
      },
    });
  });

  it("PROXY over TCP/IPv6, LOCAL, and the unspecified and unix families", () => {
    const src = Buffer.from("20010db8000000000000000000000042", "hex");
    const dst = Buffer.alloc(16);
    dst[15] = 1;
    expect(byteByByte(v2(1, 0x21, ipv6Block(src, dst, 1, 2)))).toMatchObject({
      header: { source: { family: "IPv6", address: "2001:db8::42", port: 1 }, destination: { address: "::1" } },
    });
    // LOCAL: a health check from the balancer itself; its addresses, if any, say nothing.
    expect(parseProxyHeader(v2(0, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)))).toEqual({
      kind: "header",
      length: 28,
      header: { version: 2, command: "LOCAL" },
    });
    expect(parseProxyHeader(v2(1, 0x00, Buffer.alloc(0)))).toMatchObject({ header: { command: "LOCAL" } });
    expect(parseProxyHeader(v2(1, 0x31, Buffer.alloc(216)))).toMatchObject({ header: { command: "LOCAL" } });
  });

  it.each([
    ["version 1", Buffer.concat([SIGNATURE, Buffer.from([0x11, 0x11, 0, 12]), Buffer.alloc(12)]), /version 1/],
    ["command 2", v2(2, 0x11, Buffer.alloc(12)), /command 2 .* neither LOCAL nor PROXY/],
    ["family 4", v2(1, 0x41, Buffer.alloc(12)), /address family 4/],
    ["UDP", v2(1, 0x12, Buffer.alloc(12)), /transport 2 .* not STREAM/],
    ["a short IPv4 block", v2(1, 0x11, Buffer.alloc(11)), /IPv4 address block needs 12 bytes, the header gives 11/],
    ["a short IPv6 block", v2(1, 0x21, Buffer.alloc(12)), /IPv6 address block needs 36 bytes/],
  ])("%s is malformed", (_what, bytes, why) => {
    const err = refusal(bytes);
    expect(err.problem).toBe("malformed");
    expect(err.message).toMatch(why);
  });

  it("an address block past 2 KiB is refused as oversized from its length alone", () => {
    const header = v2(1, 0x11, Buffer.alloc(3000));
    const err = refusal(header.subarray(0, 16));
    expect(err.problem).toBe("oversized");
    expect(err.message).toMatch(/PROXY v2 header of 3016 bytes/);
  });
});

describe("no PROXY header", () => {
  it.each(["GET / HTTP/1.1\r\n", "hello\r\n", "\r\n\r\nX", "PROXy TCP4"])("%j is missing its header", (text) => {
    const err = refusal(Buffer.from(text));
    expect(err.problem).toBe("missing");
    expect(err.message).toMatch(/^no PROXY protocol header: the connection starts with/);
  });
});

describe("properties", () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const port = fc.nat(65535);
  const tail = fc.uint8Array({ maxLength: 64 });

  it("a v1 TCP4 header, split anywhere, with anything after it: the client's address and the exact length", () => {
    fc.assert(
      fc.property(ipv4, ipv4, port, port, tail, fc.nat(200), (src, dst, sp, dp, rest, cut) => {
        const line = Buffer.from(`PROXY TCP4 ${src.join(".")} ${dst.join(".")} ${sp} ${dp}\r\n`);
        const bytes = Buffer.concat([line, rest]);
        const at = cut % (line.length + 1);
        if (at < line.length) expect(parseProxyHeader(bytes.subarray(0, at))).toEqual({ kind: "incomplete" });
        expect(parseProxyHeader(bytes)).toMatchObject({
          kind: "header",
          length: line.length,
          header: { source: { address: src.join("."), port: sp }, destination: { address: dst.join("."), port: dp } },
        });
      }),
    );
  });

  it("a v2 header of either family, split anywhere: the client's address and the exact length", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        port,
        fc.uint8Array({ maxLength: 40 }),
        tail,
        fc.nat(300),
        (six, raw, sp, tlvs, rest, cut) => {
          const src = Buffer.from(raw);
          const block = six
            ? Buffer.concat([ipv6Block(src, src, sp, 1), Buffer.from(tlvs)])
            : ipv4Block([...src.subarray(0, 4)], [1, 1, 1, 1], sp, 1, Buffer.from(tlvs));
          const header = v2(1, six ? 0x21 : 0x11, block);
          const bytes = Buffer.concat([header, rest]);
          const at = cut % (header.length + 1);
          if (at < header.length) expect(parseProxyHeader(bytes.subarray(0, at))).toEqual({ kind: "incomplete" });
          const parsed = parseProxyHeader(bytes);
          expect(parsed).toMatchObject({ kind: "header", length: header.length, header: { source: { port: sp } } });
          const address = parsed.kind === "header" ? parsed.header.source?.address : undefined;
          expect(address).toBe(six ? formatIPv6(src, 0) : [...src.subarray(0, 4)].join("."));
        },
      ),
    );
  });

  it("any bytes at all: a header, incomplete, or a ProxyHeaderError; never another exception", () => {
    const starts = fc.constantFrom(Buffer.alloc(0), Buffer.from("PROXY "), SIGNATURE);
    fc.assert(
      fc.property(starts, fc.uint8Array({ maxLength: 300 }), (start, raw) => {
        const bytes = Buffer.concat([start, Buffer.from(raw)]);
        try {
          const parsed = parseProxyHeader(bytes);
          if (parsed.kind === "header") expect(parsed.length).toBeLessThanOrEqual(bytes.length);
        } catch (err) {
          expect(err).toBeInstanceOf(ProxyHeaderError);
        }
      }),
    );
  });

  it("IPv6 text is what a WHATWG URL makes of the same address (RFC 5952)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(7), fc.nat(8), (raw, from, run) => {
        const bytes = Buffer.from(raw);
        // Runs of zero groups, where compression happens.
        bytes.fill(0, 2 * from, Math.min(16, 2 * (from + run)));
        // The URL writes IPv4-mapped addresses in hex; this formatter in dotted quads, as Go.
        fc.pre(!(bytes.subarray(0, 10).every((b) => b === 0) && bytes.readUInt16BE(10) === 0xffff));
        const hex = [...Array(8).keys()].map((i) => bytes.readUInt16BE(2 * i).toString(16)).join(":");
        expect(formatIPv6(bytes, 0)).toBe(new URL(`http://[${hex}]/`).hostname.slice(1, -1));
      }),
    );
  });
});

describe("proxy_trusted", () => {
  it("matches IPv4, IPv6 and IPv4-mapped peers against CIDR blocks; a bare address is itself", () => {
    const trusted = parseTrustedSources(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
    expect(trusted.trusts("10.200.1.1")).toBe(true);
    expect(trusted.trusts("::ffff:10.1.2.3")).toBe(true);
    expect(trusted.trusts("11.0.0.1")).toBe(false);
    expect(trusted.trusts("2001:db8:ffff::1")).toBe(true);
    expect(trusted.trusts("2001:db9::1")).toBe(false);
    expect(trusted.trusts("192.0.2.7")).toBe(true);
    expect(trusted.trusts("192.0.2.8")).toBe(false);
    expect(trusted.trusts(undefined)).toBe(false);
    expect(parseTrustedSources([]).trusts("127.0.0.1")).toBe(false);
  });

  it.each([
    ["10.0.0.0/33", /prefix length must be 0..32/],
    ["::/129", /prefix length must be 0..128/],
    ["10.0.0/8", /"10.0.0" is not an IP address/],
    ["localhost", /is not an IP address/],
    ["10.0.0.0/", /prefix length/],
    ["10.0.0.0/08", /prefix length/],
  ])("%j is refused: %s", (block, why) => {
    expect(() => parseTrustedSources([block])).toThrow(why);
  });
});
