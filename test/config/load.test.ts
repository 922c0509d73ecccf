import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ContextCodec, Framing, Routing } from "../../gen/ts/rr/tcp/v1/options.js";
import {
  ConfigError,
  formatConfig,
  formatConfigYaml,
  formatIssue,
  loadConfigFile,
  parseConfig,
} from "../../src/config/index.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, { env, cpuCount: 2 });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe("CONFIG_INVALID");
    return (err as ConfigError).issues.map(formatIssue);
  }
  throw new Error("expected a ConfigError");
}

const minimal = `
server:
  command: node worker.js
tcp:
  servers:
    main:
      addr: 127.0.0.1:7000
`;

describe("loading RoadRunner's config", () => {
  it("loads the RoadRunner fixture unchanged, with RoadRunner's values", async () => {
    const loaded = await loadConfigFile(join(fixtures, "roadrunner-tcp.rr.yaml"), { cpuCount: 8, env: {} });
    const { config } = loaded;
    expect(loaded.baseDir).toBe(fixtures);
    expect(config.server?.command).toEqual(["php", "worker.php"]);
    expect(config.server?.env).toEqual({ APP_ENV: "production" });
    expect(config.server?.relay).toBe("pipes");
    expect(config.server?.relay_timeout).toEqual({ seconds: 20, nanos: 0 });
    const servers = config.tcp!.servers;
    expect(Object.keys(servers)).toEqual(["smtp", "monolog", "custom"]);
    expect(servers.smtp).toMatchObject({
      addr: "127.0.0.1:1025",
      delimiter: "\r\n",
      framing: Framing.DELIMITER,
      routing: Routing.ANY,
    });
    expect(servers.monolog).toMatchObject({ addr: "tcp://127.0.0.1:9913", delimiter: "\n" });
    expect(servers.custom).toMatchObject({ delimiter: "--end--", max_message_size: 1024 * 1024, length_bytes: 4 });
    expect(config.tcp!.read_buf_size).toBe(1);
    expect(config.tcp!.context_codec).toBe(ContextCodec.JSON);
    const pool = config.tcp!.pool!;
    expect(pool).toMatchObject({ num_workers: 4, max_jobs: 1000 });
    expect(pool.allocate_timeout).toEqual({ seconds: 60, nanos: 0 });
    expect(pool.reset_timeout).toEqual({ seconds: 60, nanos: 0 });
    expect(pool.supervisor).toMatchObject({
      watch_tick: { seconds: 1, nanos: 0 },
      idle_ttl: { seconds: 10, nanos: 0 },
      max_worker_memory: 128,
    });
    expect(pool.supervisor?.exec_ttl).toEqual({ seconds: 60, nanos: 0 });
    expect(config.rpc?.listen).toBe("tcp://127.0.0.1:6001");
    expect(config.logs).toMatchObject({ level: "info", mode: "production" });
    // Every key of the fixture is one rr-tcp knows; the one it does not use is named.
    expect(loaded.warnings.map(formatIssue)).toEqual([
      "server.relay_timeout: accepted for compatibility and not used by rr-tcp",
    ]);
  });

  it("applies RoadRunner's defaults to a minimal config", () => {
    const { config, warnings } = parseConfig(minimal, { cpuCount: 3, env: {} });
    expect(warnings).toEqual([]);
    expect(config.tcp!.servers.main).toMatchObject({
      delimiter: "\r\n",
      framing: Framing.DELIMITER,
      max_message_size: 1048576,
      max_connections: 0,
    });
    expect(config.tcp!.servers.main!.idle_timeout).toBeUndefined();
    expect(config.tcp!.read_buf_size).toBe(1);
    const pool = config.tcp!.pool!;
    expect(pool.num_workers).toBe(3);
    for (const key of ["allocate_timeout", "destroy_timeout", "reset_timeout", "stream_timeout"] as const) {
      expect(pool[key]).toEqual({ seconds: 60, nanos: 0 });
    }
    expect(pool.supervisor).toBeUndefined();
    expect(config.server!.relay).toBe("pipes");
    expect(config.logs!.level).toBe("info");
  });

  it("defaults supervisor.watch_tick to 5s when a supervisor is configured", () => {
    const { config } = parseConfig(`${minimal}  pool:\n    supervisor:\n      exec_ttl: 1m30s\n`, { env: {} });
    expect(config.tcp!.pool!.supervisor!.watch_tick).toEqual({ seconds: 5, nanos: 0 });
    expect(config.tcp!.pool!.supervisor!.exec_ttl).toEqual({ seconds: 90, nanos: 0 });
  });

  it("reads durations as Go durations, a bare integer as nanoseconds", () => {
    const { config } = parseConfig(
      `${minimal}  pool:\n    allocate_timeout: 250ms\n    destroy_timeout: 1500000000\n    reset_timeout: 1h\n`,
      { env: {} },
    );
    expect(config.tcp!.pool!.allocate_timeout).toEqual({ seconds: 0, nanos: 250e6 });
    expect(config.tcp!.pool!.destroy_timeout).toEqual({ seconds: 1, nanos: 5e8 });
    expect(config.tcp!.pool!.reset_timeout).toEqual({ seconds: 3600, nanos: 0 });
  });

  it("expands ${VAR} and ${VAR:-default} in values, including numbers", () => {
    const text = `
server:
  command: \${WORKER_CMD:-node worker.js}
  env:
    - app_env: \${APP_ENV}
    - DEBUG: 1
tcp:
  servers:
    main:
      addr: \${HOST:-127.0.0.1}:\${PORT}
  pool:
    num_workers: \${WORKERS:-2}
    allocate_timeout: \${ALLOC:-5s}
`;
    const { config } = parseConfig(text, { env: { PORT: "7100", APP_ENV: "test" } });
    expect(config.server!.command).toEqual(["node", "worker.js"]);
    expect(config.server!.env).toEqual({ APP_ENV: "test", DEBUG: "1" });
    expect(config.tcp!.servers.main!.addr).toBe("127.0.0.1:7100");
    expect(config.tcp!.pool!.num_workers).toBe(2);
    expect(config.tcp!.pool!.allocate_timeout).toEqual({ seconds: 5, nanos: 0 });
  });

  it("takes commands as a list, and tcp.pool.command instead of server.command", () => {
    const { config } = parseConfig(
      `tcp:\n  servers:\n    a: { addr: ":7000" }\n  pool:\n    command: ["node", "my worker.js"]\n`,
      { env: {} },
    );
    expect(config.tcp!.pool!.command).toEqual(["node", "my worker.js"]);
  });

  it("reads rr-tcp's own keys", () => {
    const text = `
server: { command: "node w.js" }
tcp:
  context_codec: proto
  servers:
    bin:
      addr: "[::1]:0"
      framing: length
      length_bytes: 2
      routing: sticky
      max_message_size: 4096
      max_connections: 10
      idle_timeout: 30s
    raw:
      addr: unix:///tmp/x.sock
      framing: RAW
`;
    const { config } = parseConfig(text, { env: {} });
    expect(config.tcp!.context_codec).toBe(ContextCodec.PROTO);
    expect(config.tcp!.servers.bin).toMatchObject({
      framing: Framing.LENGTH,
      length_bytes: 2,
      routing: Routing.STICKY,
      max_message_size: 4096,
      max_connections: 10,
    });
    expect(config.tcp!.servers.bin!.idle_timeout).toEqual({ seconds: 30, nanos: 0 });
    expect(config.tcp!.servers.raw!.framing).toBe(Framing.RAW);
  });

  it("names the key path, the value and what is allowed, for every problem at once", () => {
    const text = `
server:
  command: 42x
  relay: carrier-pigeon
  env: nope
tcp:
  read_buf_size: 4096
  context_codec: xml
  servers:
    main:
      delimiter: "\\n"
    "bad name!":
      addr: 127.0.0.1:1
    other:
      addr: udp://127.0.0.1:9
      framing: lines
      length_bytes: 3
      max_connections: -1
      idle_timeout: soon
  pool:
    num_workers: 501
    allocate_timeout: abc
    destroy_timeout: -5s
    debug: maybe
    supervisor: [1, 2]
logs:
  level: verbose
`;
    const found = problems(text);
    const expected = [
      'server.relay: "carrier-pigeon" is not a relay (allowed: pipes, tcp://host:port, unix:///path.sock)',
      'server.env: must be a map (NAME: value) or a list of one-key maps, got "nope"',
      "tcp.read_buf_size: 4096 is out of range (1..100 MB)",
      'tcp.context_codec: "xml" is not one of: json, proto',
      'tcp.servers.bad name!: the name "bad name!" must match ^[a-zA-Z0-9._-]+$',
      'tcp.servers.other.framing: "lines" is not one of: delimiter, raw, length',
      "tcp.servers.other.length_bytes: 3 is not allowed (allowed: 1, 2, 4)",
      "tcp.servers.other.max_connections: must be a non-negative integer, got -1",
      'tcp.servers.other.idle_timeout: "soon" is not a duration (e.g. 60s, 1m30s)',
      "tcp.pool.num_workers: 501 is out of range (0..500)",
      'tcp.pool.allocate_timeout: "abc" is not a duration (e.g. 60s, 1m30s)',
      'tcp.pool.destroy_timeout: "-5s" is out of range (must not be negative)',
      'tcp.pool.debug: must be true or false, got "maybe"',
      "tcp.pool.supervisor: must be a map of keys (watch_tick, ttl, idle_ttl, max_worker_memory, exec_ttl), got a list",
      'logs.level: "verbose" is not one of: debug, info, warn, error, dpanic, panic, fatal',
      "tcp.servers.main.addr: missing (e.g. 127.0.0.1:7000, tcp://0.0.0.0:7000, unix:///run/app.sock)",
      'tcp.servers.other.addr: "udp://127.0.0.1:9": invalid protocol "udp" (allowed: host:port, tcp://host:port, [::1]:port, unix:///path.sock)',
    ];
    expect([...found].sort()).toEqual([...expected].sort());
  });
});

describe("config warnings and round trip", () => {
  it("ignores other RoadRunner plugins' sections in one warning, and warns about other unknown top-level keys", () => {
    const text = `${minimal}http:\n  address: 0.0.0.0:8080\njobs:\n  pool: { num_workers: 1 }\nlogs:\n  level: debug\n  channels: {}\ntcp_extra:\n  x: 1\ninclude: [more.rr.yaml]\n`;
    const { warnings } = parseConfig(text, { env: {} });
    expect(warnings.map(formatIssue)).toEqual([
      "tcp_extra: unknown section, ignored (rr-tcp reads version, server, tcp, rpc, logs, control, status, metrics, cluster)",
      "include: not read: this config was not loaded from a file, and included paths are relative to one (load it from its file, e.g. rr-tcp -c)",
      "(file): sections of other RoadRunner plugins ignored: http, jobs",
    ]);
  });

  it("warns about each compat key that is set, from the schema, once at its outermost key", () => {
    const text = `
server:
  command: node worker.js
  user: www-data
  group: ""
  on_init:
    command: php init.php
    exec_timeout: 10s
tcp:
  servers:
    main:
      addr: 127.0.0.1:7000
      read_buf_size: 2
  pool:
    stream_timeout: 0s
    dynamic_allocator:
      max_workers: 5
logs:
  channels:
    server: { level: info }
metrics:
  collect: {}
`;
    const { warnings } = parseConfig(text, { env: {} });
    expect(warnings.map(formatIssue)).toEqual([
      'server.user: "www-data" ignored: rr-tcp runs workers as its own user',
      "server.on_init: accepted for compatibility and not used by rr-tcp",
      "tcp.servers.main.read_buf_size: ignored: older RoadRunner docs put it per server; the tcp plugin reads only tcp.read_buf_size",
      "tcp.pool.dynamic_allocator: accepted for compatibility and not used by rr-tcp: it keeps num_workers (change it at run time with informer.AddWorker / RemoveWorker)",
      "logs.channels: accepted for compatibility and not used by rr-tcp",
    ]);
  });

  it("refuses an unknown key in a section rr-tcp reads, at any depth, naming the closest known key", () => {
    const text = `
server:
  command: node worker.js
  on_init: { command: x, exit_on_eror: true }
  foo: 1
tcp:
  servers:
    main:
      adr: 127.0.0.1:7000
  pool:
    num_worker: 2
    supervisor: { exec_tl: 1s }
logs:
  levle: debug
  channels:
    server: { mdoe: raw }
rpc: { Listen: "tcp://127.0.0.1:6001" }
status: { adress: 127.0.0.1:2114 }
`;
    expect(problems(text).sort()).toEqual(
      [
        "server.on_init.exit_on_eror: unknown key (did you mean exit_on_error?)",
        "server.foo: unknown key (known here: command, relay, env, user, group, relay_timeout, on_init)",
        "tcp.servers.main.adr: unknown key (did you mean addr?)",
        "tcp.servers.main.addr: missing (e.g. 127.0.0.1:7000, tcp://0.0.0.0:7000, unix:///run/app.sock)",
        "tcp.pool.num_worker: unknown key (did you mean num_workers?)",
        "tcp.pool.supervisor.exec_tl: unknown key (did you mean exec_ttl?)",
        "logs.levle: unknown key (did you mean level?)",
        "logs.channels.server.mdoe: unknown key (did you mean mode?)",
        "rpc.Listen: unknown key (did you mean listen?)",
        "status.adress: unknown key (did you mean address?)",
      ].sort(),
    );
  });

  it("refuses a top-level key close to one of rr-tcp's sections", () => {
    expect(problems(`${minimal}sever:\n  relay: pipes\ntpc: {}\nverison: "3"\n`)).toEqual([
      "sever: unknown section (did you mean server?)",
      "tpc: unknown section (did you mean tcp?)",
      "verison: unknown section (did you mean version?)",
    ]);
  });

  it("refuses a config without servers or worker command", () => {
    expect(problems("version: '3'\n")).toEqual([
      "tcp: missing (rr-tcp needs a tcp section with at least one server under tcp.servers)",
      'server.command: missing (the worker command, e.g. "node worker.js"; or set tcp.pool.command)',
    ]);
    expect(problems("server: { command: x }\ntcp:\n  servers: {}\n")).toEqual([
      "tcp.servers: missing (at least one server is required, e.g. main: { addr: 127.0.0.1:7000 })",
    ]);
  });

  it("refuses two servers on one address, and YAML syntax errors", () => {
    expect(
      problems(
        "server: { command: x }\ntcp:\n  servers:\n    a: { addr: '127.0.0.1:7000' }\n    b: { addr: 'tcp://127.0.0.1:7000' }\n",
      ),
    ).toEqual(['tcp.servers.b.addr: "tcp://127.0.0.1:7000" is also the address of tcp.servers.a']);
    expect(problems("tcp: [unclosed\n")[0]).toMatch(/^\(file\): YAML syntax: /);
  });

  it("formats a resolved config that loads back to the same config", () => {
    const first = parseConfig(
      `${minimal}      framing: length\n      idle_timeout: 1m30s\n  context_codec: proto\n  pool:\n    supervisor: { exec_ttl: 250ms }\n`,
      { env: {}, cpuCount: 2 },
    );
    const text = stringify(formatConfig(first.config));
    expect(text).toContain('delimiter: "\\r\\n"');
    expect(text).toContain("idle_timeout: 1m30s");
    expect(text).toContain("framing: length");
    const second = parseConfig(text, { env: {}, cpuCount: 7 });
    expect(second.config).toEqual(first.config);
    const yaml = formatConfigYaml(
      parseConfig(`${minimal}    lines:\n      addr: 127.0.0.1:7001\n      delimiter: "\\n"\n`, { env: {} }).config,
    );
    expect(yaml).toContain('delimiter: "\\n"');
  });
});
