/**
 * Every way the project starts its server passes SERVER_NODE_FLAGS: the `rr-tcp` launcher and
 * `npm start` (the benchmark imports the list itself). A flag added to the list and forgotten in
 * one of them fails here; test/build runs the built launcher.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { binLauncher } from "../../scripts/write-bin.js";
import { SERVER_NODE_FLAGS } from "../../src/service/node-flags.js";

const root = new URL("../../", import.meta.url).pathname;

describe("SERVER_NODE_FLAGS", () => {
  it("are what the rr-tcp launcher gives node, which keeps its pid (exec)", () => {
    const exec = binLauncher()
      .split("\n")
      .find((line) => line.startsWith("exec "));
    expect(exec).toBe(`exec node ${SERVER_NODE_FLAGS.join(" ")} "$here/../src/cli.js" "$@"`);
  });

  it("are not in the CLI's shebang, which must run with any env (BusyBox's has no -S)", () => {
    expect(readFileSync(join(root, "src/cli.ts"), "utf8").split("\n", 1)[0]).toBe("#!/usr/bin/env node");
  });

  it("are what npm start gives node, before the entry point", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    const args = pkg.scripts.start!.split(/\s+/);
    expect(args.slice(0, 2)).toEqual(["exec", "node"]);
    const entry = args.indexOf("src/cli.ts");
    expect(entry).toBeGreaterThan(0);
    expect(args.slice(2, entry)).toEqual(expect.arrayContaining([...SERVER_NODE_FLAGS]));
  });

  it("are flags this node accepts", () => {
    // node exits 9 ("bad option") on a flag it does not know.
    const argv = execFileSync(process.execPath, [...SERVER_NODE_FLAGS, "-p", "JSON.stringify(process.execArgv)"], {
      encoding: "utf8",
    });
    expect(JSON.parse(argv)).toEqual(expect.arrayContaining([...SERVER_NODE_FLAGS]));
  });
});
