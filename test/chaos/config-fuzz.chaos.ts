/**
 * Chaos 8: bad config, fuzzed with fast-check. A valid `.rr.yaml` is mutated at random (a value
 * replaced by one of the wrong type, a number past every range, a bad address; a random key
 * added; a key removed; an alias bomb or deep brackets spliced in; the text cut short) and loaded
 * in process, as `rr-tcp validate` loads it; and some of the mutations, with the issue's named
 * ones, go through the real `rr-tcp validate` command. Every run either loads or fails as a
 * ConfigError whose every issue names a key path; the command exits 0 or 1, never with a stack.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError, parseConfig, parseConfigData } from "../../src/config/index.js";
import { aliasBombAnchors } from "../fixtures/alias-bomb.js";
import {
  hostileValues,
  keyPathsOf,
  REMOVE,
  replaced,
  valueMutations,
  withYamlAt,
} from "../fixtures/config-mutation.js";
import { runCliToEnd } from "../integration/cli-harness.js";
import { record } from "./ledger.js";

const VALID = `
version: "3"
rpc: { listen: tcp://127.0.0.1:6001 }
server:
  command: "php worker.php"
  relay: pipes
  env: { APP_ENV: production }
tcp:
  servers:
    smtp: { addr: 127.0.0.1:1025, delimiter: "\\r\\n", max_connections: 100, framing: delimiter }
    bin: { addr: "[::1]:1026", framing: length, length_bytes: 2, idle_timeout: 30s, routing: sticky }
    raw: { addr: "unix:///tmp/rr-raw.sock", framing: raw }
  max_buffered_bytes: 268435456
  pool:
    num_workers: 4
    max_jobs: 1000
    allocate_timeout: 60s
    destroy_timeout: 60s
    supervisor: { max_worker_memory: 100, ttl: 0s, exec_ttl: 10s, watch_tick: 1s }
logs: { level: info, mode: production }
control: { addr: 127.0.0.1:2112 }
status: { address: 127.0.0.1:2114 }
`;

/** Values a fault suite would try: wrong types, numbers past every range, bad addresses and durations. */
const hostile = hostileValues([
  4294967296,
  2 ** 53,
  -1,
  1.5,
  1e308,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "4294967296",
  "999.1.1.1:7000",
  "256.0.0.1:1",
  "127.0.0.1:65536",
  "127.0.0.1:-1",
  "tcp://999.1.1.1:6001",
  "unix://",
  `unix:///${"x".repeat(200)}`,
  "[::1",
  "[::1]:99999",
  "::1:7000",
  "-host-:1",
  "a..b:1",
  "${UNSET}",
  "${UNSET:-4294967296}",
  "-5s",
  "1e9h",
  "",
  "\0",
  null,
  true,
  [],
  {},
  [[[[[]]]]],
]);

const valid = parseConfigData(VALID);
const keyPaths = keyPathsOf(valid);

/** One broken config, as YAML text. */
const brokenText: fc.Arbitrary<string> = fc
  .oneof(
    ...valueMutations(valid, hostile),
    fc.constantFrom(...keyPaths).map((path) => replaced(valid, path, REMOVE)),
  )
  .chain((data) => {
    let text: unknown;
    try {
      text = stringify(data);
    } catch {
      text = undefined;
    }
    return typeof text === "string" ? fc.constant(text) : fc.constant(VALID);
  })
  // Text-level faults on top: an alias bomb or deep brackets at a key, or the text cut short.
  .chain((text) =>
    fc.oneof(
      { weight: 12, arbitrary: fc.constant(text) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(...keyPaths), fc.integer({ min: 1, max: 9 }))
          .map(([path, level]) => aliasBombAnchors() + withYamlAt(valid, path, `*a${level}`)),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(...keyPaths), fc.constantFrom(8, 63, 64, 65, 500, 5000))
          .map(([path, depth]) => withYamlAt(valid, path, "[".repeat(depth) + "]".repeat(depth))),
      },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: text.length }).map((at) => text.slice(0, at)) },
    ),
  );

/** How loading `text` ended: loaded, refused with a ConfigError whose issues all have paths, or bad. */
function outcome(text: string): "loaded" | "refused" | string {
  try {
    parseConfig(text, { env: {}, cpuCount: 2 });
    return "loaded";
  } catch (err) {
    if (!(err instanceof ConfigError))
      return `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    if (err.issues.length === 0) return "a ConfigError with no issue";
    const pathless = err.issues.find((i) => typeof i.path !== "string" || i.path === "" || i.message === "");
    return pathless ? `an issue without a path or message: ${JSON.stringify(pathless)}` : "refused";
  }
}

const RUNS = 600;
const CLI_RANDOM = 1;
/** The issue's named ones (issue 15, item 5), through the real command. */
const NAMED = [
  VALID.replace("max_connections: 100", "max_connections: 4294967296"),
  VALID.replace("127.0.0.1:1025", '"999.1.1.1:7000"'),
  `${aliasBombAnchors()}tcp: *a9\n`,
];

const dir = mkdtempSync(join(tmpdir(), "rr-tcp-chaos-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("8 bad config fuzzed: every failure a ConfigError naming a key path, in process and by rr-tcp validate", async () => {
  const started = performance.now();
  const samples = fc.sample(brokenText, {
    numRuns: RUNS,
    seed: Number(process.env.RR_TCP_CHAOS_SEED ?? Date.now() % 2 ** 31),
  });
  const counts = { loaded: 0, refused: 0 };
  const bad: string[] = [];
  for (const text of samples) {
    const result = outcome(text);
    if (result === "loaded" || result === "refused") counts[result]++;
    else bad.push(`${result} for:\n${text.slice(0, 400)}`);
  }
  // The real command on a few of them: exit 0 or 1, one message per problem, never a stack.
  const files = [...NAMED, ...samples.slice(0, CLI_RANDOM)].map((text, i) => {
    const file = join(dir, `fuzz-${i}.rr.yaml`);
    writeFileSync(file, text);
    return file;
  });
  // One after another: on a loaded machine four tsx start-ups at once take longer than four in turn.
  const runs: Awaited<ReturnType<typeof runCliToEnd>>[] = [];
  for (const file of files) runs.push(await runCliToEnd(["validate", "-c", file], dir));
  const cliBad = runs
    .map((run, i) => ({ run, file: files[i]! }))
    .filter(
      ({ run }) =>
        !(run.code === 0 || run.code === 1) ||
        /^\s+at /m.test(run.stderr) ||
        (run.code === 1 && !run.stderr.startsWith("rr-tcp: ")),
    )
    .map(({ run, file }) => `${file}: exit ${run.code}, stderr ${JSON.stringify(run.stderr.slice(0, 300))}`);
  const namedCodes = runs.slice(0, NAMED.length).map((r) => r.code);
  record({
    case: `8 bad config fuzzed (${RUNS} in process: ${counts.refused} refused, ${counts.loaded} loaded; ${files.length} by rr-tcp validate)`,
    faults: RUNS + files.length,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  });
  expect(bad.slice(0, 3)).toEqual([]);
  expect(cliBad).toEqual([]);
  // The named ones are refused, each naming its key.
  expect(namedCodes).toEqual([1, 1, 1]);
  expect(runs[0]!.stderr).toMatch(/tcp\.servers\.smtp\.max_connections/);
  expect(runs[1]!.stderr).toMatch(/tcp\.servers\.smtp\.addr/);
  expect(runs[2]!.stderr).toMatch(/alias|YAML/i);
  expect(counts.refused).toBeGreaterThan(RUNS / 4);
});
