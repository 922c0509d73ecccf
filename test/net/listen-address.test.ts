import { describe, expect, it } from "vitest";
import { AddressError, formatListenAddress, parseListenAddress } from "../../src/net/index.js";

describe("listen addresses", () => {
  it.each([
    ["127.0.0.1:7000", { kind: "tcp", host: "127.0.0.1", port: 7000 }],
    ["tcp://127.0.0.1:9913", { kind: "tcp", host: "127.0.0.1", port: 9913 }],
    ["TCP://localhost:1", { kind: "tcp", host: "localhost", port: 1 }],
    [":6001", { kind: "tcp", host: "", port: 6001 }],
    ["[::1]:7000", { kind: "tcp", host: "::1", port: 7000 }],
    ["tcp://[::]:0", { kind: "tcp", host: "::", port: 0 }],
    ["unix:///run/rr.sock", { kind: "unix", path: "/run/rr.sock" }],
    ["unix://rr.sock", { kind: "unix", path: "rr.sock" }],
    ["my-host.example.com.:80", { kind: "tcp", host: "my-host.example.com.", port: 80 }],
    ["0.0.0.0:1", { kind: "tcp", host: "0.0.0.0", port: 1 }],
    ["[fe80::1]:1", { kind: "tcp", host: "fe80::1", port: 1 }],
    [`unix:///${"s".repeat(106)}`, { kind: "unix", path: `/${"s".repeat(106)}` }],
  ])("%s", (text, parsed) => {
    expect(parseListenAddress(text)).toEqual(parsed);
  });

  it.each([
    ["udp://127.0.0.1:9", /invalid protocol "udp"/],
    ["127.0.0.1", /port is missing/],
    ["127.0.0.1:70000", /port "70000" is not a number 0\.\.65535/],
    ["127.0.0.1:http", /port "http" is not a number 0\.\.65535/],
    ["::1:7000", /IPv6 host must be written in brackets/],
    ["[nope]:7000", /is not an IPv6 address/],
    ["unix://", /has no socket path/],
    // Fully parsed at validate time, so serve never meets them (issue 15).
    ["999.1.1.1:7000", /"999\.1\.1\.1" is not an IPv4 address/],
    ["1.2.3:7000", /"1\.2\.3" is not an IPv4 address/],
    ["256.0.0.1:7000", /is not an IPv4 address/],
    ["-bad.example:7000", /label "-bad" .*hyphen/],
    ["a..b:7000", /empty label/],
    ["under_score.example:7000", /label "under_score"/],
    [`${"a".repeat(64)}.example:7000`, /longer than 63/],
    [`${"a.".repeat(127)}ab:7000`, /longer than 253/],
    [`unix:///${"s".repeat(107)}`, /longer than 107 bytes/],
    ["unix:///tmp/a\0b.sock", /contains NUL/],
  ])("refuses %s", (text, message) => {
    expect(() => parseListenAddress(text)).toThrow(AddressError);
    expect(() => parseListenAddress(text)).toThrow(message);
  });

  it("names the address and the part that is wrong", () => {
    const err = (() => {
      try {
        parseListenAddress("999.1.1.1:7000");
      } catch (e) {
        return e as AddressError;
      }
    })();
    expect(err).toBeInstanceOf(AddressError);
    expect(err!.address).toBe("999.1.1.1:7000");
    expect(err!.message).toContain("octet 999");
  });

  it("formats addresses the way they are logged", () => {
    expect(formatListenAddress({ kind: "tcp", host: "::1", port: 5 })).toBe("[::1]:5");
    expect(formatListenAddress({ kind: "tcp", host: "127.0.0.1", port: 5 })).toBe("127.0.0.1:5");
    expect(formatListenAddress({ kind: "unix", path: "/tmp/a.sock" })).toBe("unix:///tmp/a.sock");
  });
});
