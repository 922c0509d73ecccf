/**
 * Issue 15, "bad config": what an independent fault suite fed rr-tcp. Each is refused by
 * `parseConfig` (so by `validate`, before `serve` ever meets it) as a ConfigError naming the key,
 * never another exception.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  ConfigFileError,
  formatIssue,
  loadConfigFile,
  parseConfig,
  resolveConfig,
} from "../../src/config/index.js";
import { LIMITS } from "../../src/limits.js";
import { aliasBomb } from "../fixtures/alias-bomb.js";

function config(server: string, extra = ""): string {
  return `server: { command: "node worker.js" }\ntcp:\n  servers:\n    main: { ${server} }\n${extra}`;
}

/** The ConfigError's issues, `path: message`; fails when the text loads or throws anything else. */
function problems(text: string, file?: string): string[] {
  try {
    parseConfig(text, { env: {}, cpuCount: 2, ...(file !== undefined && { file }) });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map(formatIssue);
  }
  throw new Error("expected a ConfigError");
}

describe("numbers out of their type's range", () => {
  it.each(["4294967296", '"4294967296"', "0x100000000", "1e10"])("max_connections: %s is refused", (value) => {
    expect(problems(config(`addr: "127.0.0.1:7000", max_connections: ${value}`))).toEqual([
      expect.stringMatching(/^tcp\.servers\.main\.max_connections: \d+ is out of range \(0\.\.4294967295\)$/),
    ]);
  });

  it("max_connections: 4294967295 (uint32's largest) is taken", () => {
    const loaded = parseConfig(config('addr: "127.0.0.1:7000", max_connections: 4294967295'), { env: {}, cpuCount: 2 });
    expect(loaded.config.tcp!.servers.main!.max_connections).toBe(4294967295);
  });
});

describe("addresses are parsed in full by validate", () => {
  it("a server address with a bad IPv4 address", () => {
    expect(problems(config('addr: "999.1.1.1:7000"'))).toEqual([
      expect.stringMatching(/^tcp\.servers\.main\.addr: "999\.1\.1\.1:7000": "999\.1\.1\.1" is not an IPv4 address/),
    ]);
  });

  it("a server address with a bad host name", () => {
    expect(problems(config('addr: "my_host:7000"'))).toEqual([
      expect.stringMatching(/^tcp\.servers\.main\.addr: .*label "my_host"/),
    ]);
  });

  it("a unix socket path longer than sun_path holds", () => {
    const path = `/tmp/${"s".repeat(LIMITS.unixSocketPath.value)}.sock`;
    expect(problems(config(`addr: "unix://${path}"`))).toEqual([
      expect.stringMatching(/^tcp\.servers\.main\.addr: .*longer than 107 bytes/),
    ]);
  });

  it.each([
    ["rpc: { listen: tcp://999.1.1.1:6001 }", /^rpc\.listen: .*"999\.1\.1\.1" is not an IPv4 address/],
    ["rpc: { listen: 127.0.0.1:6001 }", /^rpc\.listen: .*scheme/],
    ["server: { command: x, relay: tcp://999.1.1.1:6001 }", /^server\.relay: .*is not an IPv4 address/],
    ["control: { addr: 999.1.1.1:2114 }", /^control\.addr: .*is not an IPv4 address/],
  ])("%s", (extra, message) => {
    const text = config('addr: "127.0.0.1:7000"').replace('server: { command: "node worker.js" }\n', "") + extra;
    const found = problems(extra.startsWith("server:") ? text : `server: { command: x }\n${text}`);
    expect(found).toEqual([expect.stringMatching(message)]);
  });
});

describe("hostile YAML", () => {
  it("an alias bomb is a ConfigError naming the file, not an uncaught ReferenceError", () => {
    const found = problems(aliasBomb(), "bomb.yaml");
    expect(found).toEqual([expect.stringMatching(/^\(file\): YAML: .*alias/)]);
    try {
      parseConfig(aliasBomb(), { file: "bomb.yaml" });
    } catch (err) {
      expect((err as ConfigError).file).toBe("bomb.yaml");
      expect((err as ConfigError).message).toMatch(/^bomb\.yaml: /);
    }
  });

  it("nesting deeper than the limit is refused", () => {
    const depth = LIMITS.configDepth.value + 1;
    const text = `tcp: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
    expect(problems(text)).toEqual([expect.stringMatching(/^\(file\): .*nested deeper than 64 levels/)]);
  });

  it("very deep nesting (past the parser's stack) is a ConfigError too", () => {
    const depth = 20_000;
    expect(problems(`tcp: ${"[".repeat(depth)}${"]".repeat(depth)}\n`)).toHaveLength(1);
  });

  it("a text longer than the config file limit is refused before it is parsed", () => {
    const text = `# ${"x".repeat(LIMITS.configFile.value)}\n${config('addr: "127.0.0.1:7000"')}`;
    expect(problems(text)).toEqual([expect.stringMatching(/^\(file\): .*larger than 1048576 bytes/)]);
  });

  it("a file larger than the limit is a ConfigFileError naming it, and is not read whole", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-tcp-big-"));
    try {
      const file = join(dir, ".rr.yaml");
      writeFileSync(file, Buffer.alloc(LIMITS.configFile.value + 1, "#"));
      const err = await loadConfigFile(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigFileError);
      expect((err as ConfigFileError).message).toContain(file);
      expect((err as ConfigFileError).message).toContain("1048576 bytes");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("no config at all", () => {
  it("resolveConfig(null or undefined) names the file as empty, never an error without a problem", () => {
    for (const data of [null, undefined]) {
      expect(() => resolveConfig(data, { file: "x.yaml" })).toThrow(
        expect.objectContaining({ issues: [{ path: "(file)", message: "empty configuration" }] }),
      );
    }
  });
});

describe("proxy_trusted", () => {
  it("a block that is not CIDR is refused naming the key; absent, the default is loopback", () => {
    expect(
      problems(config('addr: "127.0.0.1:7000", proxy_protocol: true, proxy_trusted: ["10.0.0.0/8", "10.0.0.0/40"]')),
    ).toEqual(['tcp.servers.main.proxy_trusted: "10.0.0.0/40" is not a CIDR block: the prefix length must be 0..32']);
    const loaded = parseConfig(config('addr: "127.0.0.1:7000", proxy_protocol: true'), { env: {}, cpuCount: 2 });
    expect(loaded.config.tcp!.servers.main!.proxy_trusted).toEqual(["127.0.0.0/8", "::1/128"]);
  });
});

describe("tls", () => {
  it("cert and key are required; client_auth require needs the CA", () => {
    expect(problems(config('addr: "127.0.0.1:7000", tls: { client_auth: require }'))).toEqual([
      "tcp.servers.main.tls.cert: missing",
      "tcp.servers.main.tls.key: missing",
      "tcp.servers.main.tls.ca: missing: client_auth require needs the CA that signs the client certificates",
    ]);
    expect(problems(config('addr: "127.0.0.1:7000", tls: { cert: a.pem, key: a.key, client_auth: always }'))).toEqual([
      expect.stringMatching(/^tcp\.servers\.main\.tls\.client_auth: .*always.*none, request, require/),
    ]);
  });
});
