import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCHEMA_PACKAGE, SCHEMA_VERSION } from "../../src/protocol/index.js";

const root = new URL("../../", import.meta.url).pathname;
const buf = (args: string[], cwd = root) =>
  spawnSync("npx", ["--no-install", "buf", ...args], { cwd, encoding: "utf8" });

describe("published schema", () => {
  it("has no breaking change against the last released image", () => {
    const result = buf(["breaking", "--against", "proto/releases/latest.binpb"]);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("records the version the code reports", () => {
    const released = JSON.parse(readFileSync(join(root, "proto/releases/latest.json"), "utf8"));
    expect(released).toEqual({ package: SCHEMA_PACKAGE, version: SCHEMA_VERSION });
    expect(SCHEMA_PACKAGE).toBe("rr.tcp.v1");
  });

  it("buf breaking catches a renumbered field (so the check above can fail)", () => {
    const copy = mkdtempSync(join(tmpdir(), "rr-tcp-schema-"));
    try {
      cpSync(join(root, "proto"), join(copy, "proto"), { recursive: true });
      cpSync(join(root, "buf.yaml"), join(copy, "buf.yaml"));
      const file = join(copy, "proto/rr/tcp/v1/tcp.proto");
      writeFileSync(file, readFileSync(file, "utf8").replace("string uuid = 3;", "string uuid = 7;"));
      const result = spawnSync(
        join(root, "node_modules/.bin/buf"),
        ["breaking", "--against", "proto/releases/latest.binpb"],
        { cwd: copy, encoding: "utf8" },
      );
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toMatch(/uuid|3/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("passes buf lint", () => {
    execFileSync("npx", ["--no-install", "buf", "lint"], { cwd: root });
  });
});
