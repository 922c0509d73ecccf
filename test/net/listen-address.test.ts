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
  ])("refuses %s", (text, message) => {
    expect(() => parseListenAddress(text)).toThrow(AddressError);
    expect(() => parseListenAddress(text)).toThrow(message);
  });

  it("formats addresses the way they are logged", () => {
    expect(formatListenAddress({ kind: "tcp", host: "::1", port: 5 })).toBe("[::1]:5");
    expect(formatListenAddress({ kind: "tcp", host: "127.0.0.1", port: 5 })).toBe("127.0.0.1:5");
    expect(formatListenAddress({ kind: "unix", path: "/tmp/a.sock" })).toBe("unix:///tmp/a.sock");
  });
});
