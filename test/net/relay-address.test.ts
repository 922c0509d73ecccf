import { describe, expect, it } from "vitest";
import { formatRelayAddress, parseRelayAddress, type RelayAddress } from "../../src/net/index.js";
import { AddressError } from "../../src/net/index.js";

describe("relay addresses in RoadRunner syntax", () => {
  const good: Array<[string, RelayAddress, string?]> = [
    ["pipes", { kind: "pipes" }],
    ["tcp://127.0.0.1:6001", { kind: "tcp", host: "127.0.0.1", port: 6001 }],
    ["tcp://LocalHost:7000", { kind: "tcp", host: "localhost", port: 7000 }, "tcp://localhost:7000"],
    ["tcp://[::1]:6001", { kind: "tcp", host: "::1", port: 6001 }],
    ["tcp://127.0.0.1:0", { kind: "tcp", host: "127.0.0.1", port: 0 }],
    ["TCP://example.com:65535", { kind: "tcp", host: "example.com", port: 65535 }, "tcp://example.com:65535"],
    ["unix:///tmp/rr.sock", { kind: "unix", path: "/tmp/rr.sock" }],
    ["unix://rr.sock", { kind: "unix", path: "rr.sock" }],
    ["unix://var/run/rr.sock", { kind: "unix", path: "var/run/rr.sock" }],
  ];
  for (const [text, parsed, formatted] of good) {
    it(`parses ${text}`, () => {
      expect(parseRelayAddress(text)).toEqual(parsed);
      expect(formatRelayAddress(parsed)).toBe(formatted ?? text);
    });
  }

  const bad: Array<[string, string]> = [
    ["", 'neither "pipes"'],
    ["Pipes", 'neither "pipes"'],
    ["127.0.0.1:6001", 'neither "pipes"'],
    ["pipes://in:out", "pipes takes no address"],
    ["tcp://127.0.0.1", "port is missing"],
    ["tcp://127.0.0.1:", 'port ""'],
    ["tcp://127.0.0.1:65536", 'port "65536"'],
    ["tcp://127.0.0.1:http", 'port "http"'],
    ["tcp://:6001", "host is empty"],
    ["tcp://::1:6001", "brackets"],
    ["tcp://[::1]6001", "[host]:port"],
    ["tcp://host/x:6001", "not a host name"],
    ["unix://", "path is empty"],
    ["tcp://999.1.1.1:6001", '"999.1.1.1" is not an IPv4 address'],
    ["tcp://bad_host:6001", 'label "bad_host"'],
    [`unix:///${"s".repeat(107)}`, "longer than 107 bytes"],
    ["http://localhost:80", 'unknown scheme "http"'],
  ];
  for (const [text, reason] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      let error: unknown;
      try {
        parseRelayAddress(text);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AddressError);
      const e = error as AddressError;
      expect(e.code).toBe("BAD_ADDRESS");
      expect(e.syntax).toBe("relay");
      expect(e.address).toBe(text);
      expect(e.message).toContain(JSON.stringify(text));
      expect(e.message).toContain(reason);
      expect(e.message).toContain("tcp://host:port");
    });
  }
});
