import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  formatIssue,
  parseConfig,
  processShare,
  relayOfProcess,
  shareOf,
} from "../../src/config/index.js";

const config = (tcp: string, extra = ""): string => `
server:
  command: node worker.js
  relay: tcp://127.0.0.1:7001
${extra}
tcp:
${tcp}
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, { env: {}, cpuCount: 3 });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map(formatIssue);
  }
  throw new Error("expected a ConfigError");
}

describe("shareOf", () => {
  it("splits a total into parts that add up to it and differ by at most one", () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 64 }), (total, count) => {
        const parts = Array.from({ length: count }, (_, i) => shareOf(total, i, count));
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe("tcp.processes", () => {
  it("defaults to 1; 0 is one per CPU; an explicit value stays", () => {
    const servers = "  servers: { main: { addr: 127.0.0.1:7000 } }\n  pool: { num_workers: 6 }";
    expect(parseConfig(config(servers), { env: {}, cpuCount: 3 }).config.tcp!.processes).toBe(1);
    expect(parseConfig(config(`  processes: 0\n${servers}`), { env: {}, cpuCount: 3 }).config.tcp!.processes).toBe(3);
    expect(parseConfig(config(`  processes: 2\n${servers}`), { env: {}, cpuCount: 3 }).config.tcp!.processes).toBe(2);
  });

  it("refuses fewer workers or connections than processes, naming the key", () => {
    expect(
      problems(config("  processes: 2\n  servers: { main: { addr: 127.0.0.1:7000 } }\n  pool: { num_workers: 1 }")),
    ).toEqual([
      "tcp.pool.num_workers: 1 is fewer than one worker per process (tcp.processes is 2, and each process owns its share)",
    ]);
    // num_workers 0 is one per CPU (3 here): too few for 4 processes.
    expect(
      problems(config("  processes: 4\n  servers: { main: { addr: 127.0.0.1:7000, max_connections: 3 } }")),
    ).toEqual([
      "tcp.pool.num_workers: 3 is fewer than one worker per process (tcp.processes is 4, and each process owns its share)",
      "tcp.servers.main.max_connections: 3 is fewer than one connection per process (tcp.processes is 4, and each process owns its share; 0 is unlimited)",
    ]);
  });

  it("gives each process its share, its own relay, and no endpoint of its own", () => {
    const loaded = parseConfig(
      config(
        "  processes: 3\n  max_buffered_bytes: 1000\n  servers: { main: { addr: 127.0.0.1:7000, max_connections: 10 }, other: { addr: 127.0.0.1:7001 } }\n  pool: { num_workers: 7 }",
        "rpc: { listen: tcp://127.0.0.1:6001 }\ncontrol: { addr: 127.0.0.1:8080 }\nmetrics: { address: 127.0.0.1:2112 }\nstatus: { address: 127.0.0.1:2114 }",
      ),
      { env: {}, cpuCount: 3 },
    );
    const shares = [0, 1, 2].map((i) => processShare(loaded.config, i, 3, "tcp://127.0.0.1:6001"));
    expect(shares.map((s) => s.tcp!.pool!.num_workers)).toEqual([3, 2, 2]);
    expect(shares.map((s) => s.tcp!.servers.main!.max_connections)).toEqual([4, 3, 3]);
    expect(shares.map((s) => s.tcp!.servers.other!.max_connections)).toEqual([0, 0, 0]);
    expect(shares.map((s) => s.tcp!.max_buffered_bytes)).toEqual([334, 333, 333]);
    expect(shares.map((s) => s.server!.relay)).toEqual([
      "tcp://127.0.0.1:7001",
      "tcp://127.0.0.1:7002",
      "tcp://127.0.0.1:7003",
    ]);
    for (const share of shares) {
      expect(share.tcp!.processes).toBe(1);
      expect(share.server!.env.RR_RPC).toBe("tcp://127.0.0.1:6001");
      expect([share.rpc, share.control, share.metrics, share.status]).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
    }
    // The primary's config is left as it was.
    expect(loaded.config.tcp!.pool!.num_workers).toBe(7);
    expect(loaded.config.server!.env.RR_RPC).toBeUndefined();
  });
});

describe("relayOfProcess", () => {
  it("keeps pipes and ephemeral ports, moves fixed ports and socket files per process", () => {
    expect(relayOfProcess("pipes", 2)).toBe("pipes");
    expect(relayOfProcess("tcp://127.0.0.1:0", 2)).toBe("tcp://127.0.0.1:0");
    expect(relayOfProcess("tcp://127.0.0.1:6001", 0)).toBe("tcp://127.0.0.1:6001");
    expect(relayOfProcess("tcp://127.0.0.1:6001", 2)).toBe("tcp://127.0.0.1:6003");
    expect(relayOfProcess("unix:///tmp/rr.sock", 1)).toBe("unix:///tmp/rr.1.sock");
    expect(relayOfProcess("unix:///tmp/relay", 1)).toBe("unix:///tmp/relay.1");
    expect(relayOfProcess("unix:///tmp/.hidden", 1)).toBe("unix:///tmp/.hidden.1");
  });
});
