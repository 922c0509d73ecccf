/**
 * Issue 15: whatever a config file holds, loading it fails only as a ConfigError whose every
 * issue names a key path. A valid config is mutated at random (a value replaced by one of the
 * wrong type, a huge or odd number, a bad address, a random key added) and loaded both as data
 * (resolveConfig) and as YAML text (parseConfig).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError, parseConfig, parseConfigData, resolveConfig } from "../../src/config/index.js";
import { aliasBombAnchors } from "../fixtures/alias-bomb.js";
import { hostileValues, keyPathsOf, valueMutations, withYamlAt } from "../fixtures/config-mutation.js";

const VALID = `
version: "3"
rpc: { listen: tcp://127.0.0.1:6001 }
server:
  command: "php worker.php"
  relay: pipes
  relay_timeout: 20s
  env: { APP_ENV: production }
tcp:
  servers:
    smtp: { addr: 127.0.0.1:1025, delimiter: "\\r\\n", max_connections: 100 }
    raw: { addr: "unix:///tmp/rr-raw.sock", framing: raw, idle_timeout: 30s }
  read_buf_size: 1
  pool:
    num_workers: 4
    max_jobs: 1000
    allocate_timeout: 60s
    destroy_timeout: 60s
    supervisor: { max_worker_memory: 100, ttl: 0s }
logs: { level: info, mode: production }
control: { addr: 127.0.0.1:2114 }
`;

/** Values a fault suite would try: wrong types, numbers past every range, addresses that are not. */
const hostile = hostileValues([
  4294967296,
  2 ** 53,
  2 ** 64,
  -1,
  -0,
  1.5,
  1e308,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "4294967296",
  "999.1.1.1:7000",
  "tcp://999.1.1.1:6001",
  "unix://",
  `unix:///${"x".repeat(200)}`,
  "[::1",
  "::1:7000",
  "-host-:1",
  "a..b:1",
  "${UNSET}",
  "${UNSET:-4294967296}",
  "",
  " ",
  "\0",
  null,
  true,
  [],
  {},
  [[[[[]]]]],
]);

/** A hostile change to the valid data: a value replaced, or a random key set in some map. */
const mutation = (data: unknown): fc.Arbitrary<unknown> => fc.oneof(...valueMutations(data, hostile));

/** Loading either works or throws a ConfigError whose issues all name a path and say something. */
function loadsOrConfigError(load: () => unknown): void {
  try {
    load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.issues.length).toBeGreaterThan(0);
    for (const issue of err.issues) {
      expect(typeof issue.path).toBe("string");
      expect(issue.path).not.toBe("");
      expect(issue.message).not.toBe("");
    }
  }
}

describe("a mutated valid config", () => {
  const valid = parseConfigData(VALID);

  it("loads as it is (the mutations start from a config that works)", () => {
    expect(() => resolveConfig(valid, { env: {}, cpuCount: 2 })).not.toThrow();
  });

  it("resolveConfig throws nothing but a ConfigError whose every issue has a path", () => {
    fc.assert(
      fc.property(mutation(valid), (data) => {
        loadsOrConfigError(() => resolveConfig(data, { env: {}, cpuCount: 2 }));
      }),
      { numRuns: 500 },
    );
  });

  it("parseConfig of the mutation as YAML text does the same", () => {
    fc.assert(
      fc.property(mutation(valid), (data) => {
        let text: string | undefined;
        try {
          text = stringify(data) as string | undefined;
        } catch {
          return; // not every JS value has a YAML form; those are no file a user could write
        }
        // stringify(undefined) is undefined, not text: no file either.
        if (typeof text !== "string") return;
        loadsOrConfigError(() => parseConfig(text, { env: {}, cpuCount: 2 }));
      }),
      { numRuns: 300 },
    );
  });

  it("parseConfig of YAML made hostile at a random key (an alias bomb, deep brackets) does the same", () => {
    const snippet = fc.oneof(
      fc.integer({ min: 1, max: 9 }).map((level) => ({ prefix: aliasBombAnchors(), value: `*a${level}` })),
      fc.integer({ min: 1, max: 5000 }).map((depth) => ({ prefix: "", value: "[".repeat(depth) + "]".repeat(depth) })),
    );
    fc.assert(
      fc.property(fc.constantFrom(...keyPathsOf(valid)), snippet, (path, { prefix, value }) => {
        const text = prefix + withYamlAt(valid, path, value);
        loadsOrConfigError(() => parseConfig(text, { env: {}, cpuCount: 2 }));
      }),
      { numRuns: 100 },
    );
  });
});
