/**
 * Broken configs give one clear error per problem, naming what was wrong.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, formatIssue, parseConfig } from "../../src/config/index.js";

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, { env, cpuCount: 2 });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map(formatIssue);
  }
  throw new Error("expected a ConfigError");
}

const servers = 'tcp:\n  servers:\n    main: { addr: "127.0.0.1:7000" }\n';

describe("broken configs", () => {
  it("a server.relay the pool could not open is refused by the loader, with the parser's reason", () => {
    const relay = (value: string) => problems(`server: { command: node w.js, relay: "${value}" }\n${servers}`);
    expect(relay("tcp://nohostport")).toEqual([
      'server.relay: bad relay address "tcp://nohostport": the port is missing; expected "pipes", "tcp://host:port" or "unix:///path/to.sock"',
    ]);
    expect(relay("tcp://127.0.0.1:99999")[0]).toContain('the port "99999" is not a number 0..65535');
    expect(relay("tcp://:7000")[0]).toContain("the host is empty");
    expect(relay("carrier-pigeon")).toEqual([
      'server.relay: "carrier-pigeon" is not a relay (allowed: pipes, tcp://host:port, unix:///path.sock)',
    ]);
    // What the pool accepts still loads.
    for (const ok of [
      "pipes",
      "tcp://127.0.0.1:0",
      "tcp://[::1]:6001",
      "unix:///tmp/rr.sock",
      "unix://relative.sock",
    ]) {
      expect(() =>
        parseConfig(`server: { command: node w.js, relay: "${ok}" }\n${servers}`, { env: {} }),
      ).not.toThrow();
    }
  });

  it("a value of the wrong type is one error, not followed by a `missing` for the same key", () => {
    expect(problems(`server: { command: 42 }\n${servers}`)).toEqual([
      'server.command: must be a command string ("node worker.js") or a list of strings, got 42',
    ]);
    expect(problems("server: { command: node w.js }\ntcp: [1, 2]\n")).toEqual([
      "tcp: must be a map of keys (servers, read_buf_size, pool, context_codec, max_buffered_bytes, processes), got a list",
    ]);
    expect(problems("server: { command: node w.js }\ntcp: { servers: [1] }\n")).toEqual([
      "tcp.servers: must be a map of named entries, got a list",
    ]);
  });

  it("an error about a value built from unset ${VAR}s names the variables", () => {
    const found = problems(
      `server: { command: "\${WORKER}" }\ntcp:\n  servers:\n    main: { addr: "\${HOST}:\${PORT}", idle_timeout: "\${IDLE:-5s}" }\n`,
      { HOST: "127.0.0.1" },
    );
    expect(found.sort()).toEqual([
      'server.command: missing (the worker command, e.g. "node worker.js"; or set tcp.pool.command); ${WORKER} is not set in the environment',
      'tcp.servers.main.addr: "127.0.0.1:": the port "" is not a number 0..65535 (allowed: host:port, tcp://host:port, [::1]:port, unix:///path.sock); ${PORT} is not set in the environment',
    ]);
    // A set variable, or one with a default, is not blamed.
    expect(
      problems(`server: { command: node w.js }\ntcp:\n  servers:\n    main: { addr: "\${ADDR}" }\n`, {
        ADDR: "nowhere",
      }),
    ).toEqual([
      'tcp.servers.main.addr: "nowhere": the port is missing (allowed: host:port, tcp://host:port, [::1]:port, unix:///path.sock)',
    ]);
  });
});

describe("durations written as bare integers", () => {
  it("under a millisecond, a bare integer (nanoseconds) gets a warning suggesting a unit", () => {
    const { config, warnings } = parseConfig(
      `server: { command: node w.js }\n${servers}  pool:\n    allocate_timeout: 60\n    destroy_timeout: 1500000000\n`,
      { env: {} },
    );
    expect(config.tcp!.pool!.allocate_timeout).toEqual({ seconds: 0, nanos: 60 });
    expect(warnings.map(formatIssue)).toEqual([
      "tcp.pool.allocate_timeout: 60 is 60 nanoseconds (a bare integer is nanoseconds, as in RoadRunner); write a unit, e.g. 60s",
    ]);
  });

  it("a duration that becomes a timer must fit one (Node would fire it after 1 ms)", () => {
    expect(
      problems(
        `server: { command: node w.js }\ntcp:\n  servers:\n    main: { addr: "127.0.0.1:7000", idle_timeout: 1000h }\n` +
          `  pool:\n    destroy_timeout: 597h\n    supervisor: { exec_ttl: 2147484s, ttl: 1000h }\n`,
      ),
    ).toEqual([
      `tcp.servers.main.idle_timeout: "1000h" is longer than Node's longest timer, 2147483647 ms (about 24.8 days)`,
      `tcp.pool.destroy_timeout: "597h" is longer than Node's longest timer, 2147483647 ms (about 24.8 days)`,
      `tcp.pool.supervisor.exec_ttl: "2147484s" is longer than Node's longest timer, 2147483647 ms (about 24.8 days)`,
    ]);
    // ttl is compared on each watch_tick, not set as a timer: a long one is fine; 596h31m fits a timer.
    const ok = parseConfig(
      `server: { command: node w.js }\n${servers}  pool:\n    destroy_timeout: 596h\n    supervisor: { ttl: 1000h }\n`.replace(
        "596h",
        "596h31m",
      ),
      { env: {} },
    );
    expect(ok.config.tcp!.pool!.supervisor!.ttl).toEqual({ seconds: 3_600_000, nanos: 0 });
  });

  it("control.addr and rpc.listen may not take a server's address (one of them could not start)", () => {
    expect(
      problems(
        `server: { command: node w.js }\n${servers}control: { addr: "127.0.0.1:7000" }\nrpc: { listen: "tcp://127.0.0.1:7000" }\n`,
      ),
    ).toEqual([
      `control.addr: "127.0.0.1:7000" is also the address of tcp.servers.main`,
      `rpc.listen: "tcp://127.0.0.1:7000" is also the address of tcp.servers.main`,
    ]);
    expect(
      problems(
        `server: { command: node w.js }\n${servers}control: { addr: "127.0.0.1:7001" }\nrpc: { listen: "tcp://127.0.0.1:7001" }\n`,
      ),
    ).toEqual([`rpc.listen: "tcp://127.0.0.1:7001" is also the address of control.addr`]);
  });

  it("status.address and metrics.address are checked as listen addresses, and may not clash", () => {
    const found = problems(
      `server: { command: node w.js }
${servers}status: { address: "127.0.0.1:99999" }
metrics: { address: "127.0.0.1:7000" }
`,
    );
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^status\.address: .*99999/);
    expect(found[1]).toBe(`metrics.address: "127.0.0.1:7000" is also the address of tcp.servers.main`);
  });
});
