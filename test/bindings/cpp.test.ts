/**
 * The C++ bindings (gen/cpp): built and installed with their Makefile against Debian's libprotobuf
 * (libprotobuf-dev), then test/bindings/cpp/xlang.cc compiled with the installed rr-tcp-proto.pc.
 */
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/protocol/schema-version.js";
import { COMMITTED_WITH } from "../../scripts/gen-bindings.js";
import { describeBindings } from "./cross-language.js";
import { bindingsXlang, buildCpp } from "./toolchain.js";

describeBindings("cpp", () => {
  it("installs headers, librr-tcp-proto.a and rr-tcp-proto.pc at the schema version", () => {
    const { prefix } = buildCpp();
    const pkgConfig = (...args: string[]): string =>
      spawnSync("pkg-config", args, {
        encoding: "utf8",
        env: { ...process.env, PKG_CONFIG_PATH: join(prefix, "lib/pkgconfig") },
      }).stdout.trim();
    expect(pkgConfig("--modversion", "rr-tcp-proto")).toBe(SCHEMA_VERSION);
    const include = /-I(\S+)/.exec(pkgConfig("--cflags", "rr-tcp-proto"))?.[1];
    expect(include && realpathSync(include)).toBe(realpathSync(join(prefix, "include")));
    expect(existsSync(join(prefix, "include/rr/tcp/v1/tcp.pb.h"))).toBe(true);
    expect(pkgConfig("--libs", "rr-tcp-proto")).toMatch(/-lrr-tcp-proto .*-lprotobuf/);
  });

  it("is compiled and linked with the libprotobuf of the protoc that generated it", () => {
    // The generated headers refuse another protoc's runtime at compile time, and the program
    // checks the linked library against the headers (GOOGLE_PROTOBUF_VERIFY_VERSION) at start.
    const { protobuf_version } = JSON.parse(bindingsXlang("cpp", ["runtime"])) as { protobuf_version: string };
    expect(protobuf_version).toBe(COMMITTED_WITH.protoc!.replace(/^libprotoc /, ""));
  });
});
