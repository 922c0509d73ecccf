import { describe, expect, it } from "vitest";
import { ConfigError, formatIssue, resolveConfig } from "../../src/config/index.js";
import { applyOverrides, parseOverrides } from "../../src/config/overrides.js";

function issues(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue);
    throw err;
  }
  throw new Error("expected a ConfigError");
}

const BASE = { server: { command: "node w.js" }, tcp: { servers: { main: { addr: "127.0.0.1:0" } } } };

describe("-o overrides", () => {
  it("parses dotted.key=value; the value may hold = and be empty", () => {
    expect(parseOverrides(["tcp.pool.num_workers=4", "server.env.A=b=c", "rpc.listen="])).toEqual([
      { path: ["tcp", "pool", "num_workers"], value: "4" },
      { path: ["server", "env", "A"], value: "b=c" },
      { path: ["rpc", "listen"], value: "" },
    ]);
  });

  it("refuses arguments that are not dotted.key=value, naming each", () => {
    expect(issues(() => parseOverrides(["num_workers", "=4", "tcp..pool=1"]))).toEqual([
      "-o num_workers: must be dotted.key=value, e.g. -o tcp.pool.num_workers=4",
      "-o =4: must be dotted.key=value, e.g. -o tcp.pool.num_workers=4",
      "-o tcp..pool=1: must be dotted.key=value, e.g. -o tcp.pool.num_workers=4",
    ]);
  });

  it("sets nested keys and map entries, creating sections, and the result is decoded like the file", () => {
    const data = structuredClone(BASE);
    applyOverrides(data, parseOverrides(["tcp.pool.num_workers=3", "tcp.servers.extra.addr=127.0.0.1:7100"]));
    const { config } = resolveConfig(data, { env: {} });
    expect(config.tcp!.pool!.num_workers).toBe(3);
    expect(config.tcp!.servers.extra!.addr).toBe("127.0.0.1:7100");
    expect(config.tcp!.servers.main!.addr).toBe("127.0.0.1:0");
  });

  it("a path through a value is refused; a typo or a bad value through -o fails as in the file", () => {
    expect(issues(() => applyOverrides(structuredClone(BASE), parseOverrides(["server.command.x=1"])))).toEqual([
      "-o server.command.x=1: server.command is a value, not a section, so it has no key x",
    ]);
    const overrides = parseOverrides(["tcp.pool.num_worker=2", "tcp.pool.max_jobs=many"]);
    const found = issues(() => resolveConfig(structuredClone(BASE), { env: {}, overrides }));
    expect(found).toContainEqual(expect.stringMatching(/^tcp\.pool\.num_worker: .*did you mean num_workers\?/));
    expect(found).toContainEqual(expect.stringMatching(/^tcp\.pool\.max_jobs: must be a non-negative integer/));
  });
});
