/**
 * RoadRunner's `include:` (src/config/include.ts), on real files: the root's sections, then each
 * included file's in list order, every top-level key replaced whole; paths from the root file's
 * directory; the root's version required; every include that cannot be used named at
 * `include[i]` with its path.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempTree } from "../fixtures/temp-tree.js";
import {
  ConfigError,
  formatIssue,
  loadConfigFile,
  parseConfig,
  readConfigFileData,
  type LoadedConfig,
} from "../../src/config/index.js";
import { parseOverrides } from "../../src/config/overrides.js";
import { LIMITS } from "../../src/limits.js";

const folder = (files: Record<string, string>): string => tempTree("rr-tcp-include-", files);

const SERVER = "server:\n  command: node worker.js\n";
const TCP = "tcp:\n  servers:\n    main: { addr: 127.0.0.1:7000 }\n";

async function load(file: string, env: Record<string, string> = {}, override: string[] = []): Promise<LoadedConfig> {
  return loadConfigFile(file, { env, cpuCount: 8, overrides: parseOverrides(override) });
}

/** The issues of the ConfigError loading `file` throws. */
async function problems(file: string, env: Record<string, string> = {}): Promise<string[]> {
  const err = await load(file, env).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues.map(formatIssue);
}

describe("include: merging", () => {
  it("reads the root, then each include in order: a later file wins, a section is replaced whole", async () => {
    const dir = folder({
      ".rr.yaml": [
        'version: "3"',
        "include: [first.yaml, second.yaml]",
        "rpc: { listen: tcp://127.0.0.1:6001 }",
        "logs: { level: debug }",
        "tcp:",
        "  servers:",
        "    main: { addr: 127.0.0.1:7000 }",
        "  pool: { num_workers: 3 }",
        "",
      ].join("\n"),
      "first.yaml": `version: "3"\n${SERVER}tcp:\n  servers:\n    first: { addr: 127.0.0.1:7001 }\nlogs: { level: info }\n`,
      "second.yaml": 'version: "3"\ntcp:\n  servers:\n    second: { addr: 127.0.0.1:7002 }\nlogs: { level: warn }\n',
    });
    const { config, warnings } = await load(join(dir, ".rr.yaml"));
    // The last file with tcp gave the whole section: the root's servers and its pool are gone.
    expect(Object.keys(config.tcp!.servers)).toEqual(["second"]);
    expect(config.tcp!.servers.second!.addr).toBe("127.0.0.1:7002");
    expect(config.tcp!.pool!.num_workers).toBe(8); // the default (cpuCount), not the root's 3
    expect(config.logs!.level).toBe("warn");
    // A key only an earlier include has stays; one only the root has stays.
    expect(config.server!.command).toEqual(["node", "worker.js"]);
    expect(config.rpc!.listen).toBe("tcp://127.0.0.1:6001");
    expect(warnings.map(formatIssue)).toEqual([]);
  });

  it("takes relative paths from the root file's directory, not the working directory; an absolute one as is", async () => {
    const shared = folder({ "abs.yaml": 'version: "3"\nlogs: { level: error }\n' });
    const dir = folder({
      "app/config/.rr.yaml": `version: "3"\ninclude: [parts/tcp.yaml, ../server.yaml, ${join(shared, "abs.yaml")}]\n`,
      "app/config/parts/tcp.yaml": `version: "3"\n${TCP}`,
      "app/server.yaml": `version: "3"\n${SERVER}`,
    });
    expect(process.cwd()).not.toBe(join(dir, "app/config"));
    const { config, file } = await load(join(dir, "app/config/.rr.yaml"));
    expect(file).toBe(join(dir, "app/config/.rr.yaml"));
    expect(config.tcp!.servers.main!.addr).toBe("127.0.0.1:7000");
    expect(config.server!.command).toEqual(["node", "worker.js"]);
    expect(config.logs!.level).toBe("error");
  });

  it("expands ${VAR}s inside an included file, and in the include paths", async () => {
    const dir = folder({
      ".rr.yaml": `version: "3"\n${SERVER}include: ["\${PART}.yaml"]\n`,
      "tcp-prod.yaml":
        'version: "3"\ntcp:\n  servers:\n    main: { addr: "${ADDR}" }\n  pool: { num_workers: "${N:-2}" }\n',
    });
    const { config } = await load(join(dir, ".rr.yaml"), { PART: "tcp-prod", ADDR: "127.0.0.1:7555" });
    expect(config.tcp!.servers.main!.addr).toBe("127.0.0.1:7555");
    expect(config.tcp!.pool!.num_workers).toBe(2);
  });

  it("applies -o overrides after the includes: an override wins over an included key", async () => {
    const dir = folder({
      ".rr.yaml": `version: "3"\n${SERVER}include: [tcp.yaml]\n`,
      "tcp.yaml": `version: "3"\n${TCP}  pool: { num_workers: 5 }\n`,
    });
    const { config } = await load(join(dir, ".rr.yaml"), {}, ["tcp.pool.num_workers=7"]);
    expect(config.tcp!.pool!.num_workers).toBe(7);
    expect(config.tcp!.servers.main!.addr).toBe("127.0.0.1:7000");
  });

  it("does not follow an include in an included file, and warns at the entry that has it", async () => {
    const dir = folder({
      ".rr.yaml": `version: "3"\n${SERVER}include: [tcp.yaml]\n`,
      "tcp.yaml": `version: "3"\n${TCP}include: [logs.yaml]\n`,
      "logs.yaml": 'version: "3"\nlogs: { level: error }\n',
    });
    const { config, warnings } = await load(join(dir, ".rr.yaml"));
    expect(config.logs?.level).not.toBe("error");
    expect(warnings.map(formatIssue)).toEqual([
      `include[0]: ${join(dir, "tcp.yaml")}: its include is not followed: only the root file's include list is read, as RoadRunner does`,
    ]);
  });

  it("`include:` with nothing after it, or an empty list, includes nothing and is no warning", async () => {
    for (const list of ["", " []"]) {
      const dir = folder({ ".rr.yaml": `version: "3"\n${SERVER}${TCP}include:${list}\n` });
      const { warnings } = await load(join(dir, ".rr.yaml"));
      expect(warnings).toEqual([]);
    }
  });

  it("readConfigFileData gives the merged data (what rr-tcp workers reads rpc.listen from)", async () => {
    const dir = folder({
      ".rr.yaml": `version: "3"\n${SERVER}${TCP}include: [rpc.yaml]\n`,
      "rpc.yaml": 'version: "3"\nrpc: { listen: tcp://127.0.0.1:6009 }\n',
    });
    const { data } = await readConfigFileData(join(dir, ".rr.yaml"), {});
    expect(data).toMatchObject({ rpc: { listen: "tcp://127.0.0.1:6009" } });
    expect(data).not.toHaveProperty("include");
  });

  it("a config given as text has no file to take paths from: its include is not read, and a warning says so", () => {
    const { warnings } = parseConfig(`${SERVER}${TCP}include: [more.yaml]\n`, { env: {} });
    expect(warnings.map(formatIssue)).toEqual([
      "include: not read: this config was not loaded from a file, and included paths are relative to one (load it from its file, e.g. rr-tcp -c)",
    ]);
  });
});

describe("include: errors", () => {
  it("an included file with another version is refused, naming the entry, the file and both versions", async () => {
    const dir = folder({
      ".rr.yaml": `version: "3"\n${SERVER}include: [tcp.yaml, logs.yaml]\n`,
      "tcp.yaml": `version: "2.7"\n${TCP}`,
      "logs.yaml": "logs: { level: info }\n",
    });
    expect(await problems(join(dir, ".rr.yaml"))).toEqual([
      `include[0]: ${join(dir, "tcp.yaml")}: has version "2.7", the root file's is "3" (an included file must have the root's version, as RoadRunner requires)`,
      `include[1]: ${join(dir, "logs.yaml")}: has no version, the root file's is "3" (an included file must have the root's version, as RoadRunner requires)`,
    ]);
  });

  it("a missing file, a YAML syntax error, an empty file and a file that is no map are each named at include[i] with the path", async () => {
    const dir = folder({
      ".rr.yaml": `version: "3"\n${SERVER}${TCP}include: [ok.yaml, missing.yaml, broken.yaml, empty.yaml, list.yaml]\n`,
      "ok.yaml": 'version: "3"\nlogs: { level: info }\n',
      "broken.yaml": 'version: "3"\ntcp: { servers: [\n',
      "empty.yaml": "# nothing\n",
      "list.yaml": "- version: 3\n",
    });
    const err = await load(join(dir, ".rr.yaml")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const { issues, file, message } = err as ConfigError;
    expect(file).toBe(join(dir, ".rr.yaml"));
    expect(issues.map((issue) => issue.path)).toEqual(["include[1]", "include[2]", "include[3]", "include[4]"]);
    expect(issues[0]!.message).toMatch(new RegExp(`^${join(dir, "missing.yaml")}: cannot read it: ENOENT`));
    expect(issues[1]!.message).toMatch(new RegExp(`^${join(dir, "broken.yaml")}: YAML syntax: `));
    expect(issues[2]!.message).toBe(`${join(dir, "empty.yaml")}: empty configuration`);
    expect(issues[3]!.message).toBe(
      `${join(dir, "list.yaml")}: must be a map of top-level sections (version, tcp, ...), got a list`,
    );
    // The message printed by the CLI names both too.
    expect(message).toContain(`include[1]: ${join(dir, "missing.yaml")}: cannot read it`);
  });

  it("an included file past the size limit is refused like the root, named at its entry", async () => {
    const dir = folder({ ".rr.yaml": `version: "3"\n${SERVER}${TCP}include: [big.yaml]\n` });
    writeFileSync(join(dir, "big.yaml"), Buffer.alloc(LIMITS.configFile.value + 1, "#"));
    expect(await problems(join(dir, ".rr.yaml"))).toEqual([
      expect.stringMatching(new RegExp(`^include\\[0\\]: ${join(dir, "big.yaml")}: cannot read it: .*1048576 bytes`)),
    ]);
  });

  it("include that is not a list of strings is refused", async () => {
    const dir = folder({
      "string.yaml": `version: "3"\n${SERVER}${TCP}include: more.yaml\n`,
      "map.yaml": `version: "3"\n${SERVER}${TCP}include: { a: b.yaml }\n`,
      "entries.yaml": `version: "3"\n${SERVER}${TCP}include: [1, { a: b }, "", "  "]\n`,
    });
    expect(await problems(join(dir, "string.yaml"))).toEqual([
      'include: must be a list of file paths (include: [more.rr.yaml]), got "more.yaml"',
    ]);
    expect(await problems(join(dir, "map.yaml"))).toEqual([
      "include: must be a list of file paths (include: [more.rr.yaml]), got a map",
    ]);
    expect(await problems(join(dir, "entries.yaml"))).toEqual([
      "include[0]: must be a file path (a string), got 1",
      "include[1]: must be a file path (a string), got a map",
      'include[2]: "" names no file',
      'include[3]: "  " names no file',
    ]);
  });

  it(`more than ${LIMITS.configIncludes.value} includes are refused before any is read`, async () => {
    const many = Array.from({ length: LIMITS.configIncludes.value + 1 }, (_, i) => `f${i}.yaml`);
    const dir = folder({ ".rr.yaml": `version: "3"\n${SERVER}${TCP}include: [${many.join(", ")}]\n` });
    expect(await problems(join(dir, ".rr.yaml"))).toEqual([
      "include: 65 files is more than 64 files (fixed), the files a config includes",
    ]);
  });

  it("an error in an included section is reported as any other (its key path)", async () => {
    const dir = folder({
      ".rr.yaml": `version: "3"\n${SERVER}include: [tcp.yaml]\n`,
      "tcp.yaml": 'version: "3"\ntcp:\n  servers:\n    main: { addr: 127.0.0.1:7000 }\n  pool: { num_worker: 2 }\n',
    });
    expect(await problems(join(dir, ".rr.yaml"))).toEqual([
      "tcp.pool.num_worker: unknown key (did you mean num_workers?)",
    ]);
  });
});
