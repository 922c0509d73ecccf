/**
 * Every way the project starts its server passes SERVER_NODE_FLAGS: the bin's shebang and
 * `npm start` (the benchmark imports the list itself). A flag added to the list and forgotten in
 * one of them fails here.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS } from "../../src/server/node-flags.js";

const root = new URL("../../", import.meta.url).pathname;

describe("SERVER_NODE_FLAGS", () => {
  it("are in the rr-tcp bin's shebang", () => {
    const shebang = readFileSync(join(root, "src/cli.ts"), "utf8").split("\n", 1)[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(" ")}`);
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
