/**
 * scripts/gen-bindings.ts: the committed bindings are what proto/ generates, each a package at the
 * schema's version, the check catches a stale file and ignores build outputs, every language
 * generates offline, and a missing tool names its Debian package.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  bindingLanguages,
  BUILD_OUTPUTS,
  checkBindings,
  COMMITTED_LANGUAGES,
  generateBindings,
  goModulePath,
  PACKAGE_TEMPLATES,
  REPO_ROOT,
} from "../../scripts/gen-bindings.js";
import { SCHEMA_VERSION } from "../../src/protocol/schema-version.js";

const temps: string[] = [];
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-bindings-test-"));
  temps.push(dir);
  return dir;
};
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe("gen:bindings", () => {
  it("knows the five languages of buf.gen.bindings.yaml and commits all of them", () => {
    expect(bindingLanguages()).toEqual(["python", "go", "php", "java", "cpp"]);
    expect(COMMITTED_LANGUAGES).toEqual(["python", "go", "php", "java", "cpp"]);
  });

  it("--check: every committed gen/<language> is exactly what proto/ generates", () => {
    const result = checkBindings();
    expect(result.problems, result.hint).toEqual([]);
    expect(result.ok).toBe(true);
  }, 60_000);

  it("--check fails on a stale, a missing and an extra committed file, and ignores build outputs", () => {
    // A copy of the repository's inputs, with node_modules linked for buf.
    const root = temp();
    for (const path of ["buf.yaml", "buf.gen.bindings.yaml", "proto", PACKAGE_TEMPLATES, "gen"])
      cpSync(join(REPO_ROOT, path), join(root, path), {
        recursive: true,
        filter: (src) => !src.startsWith(join(REPO_ROOT, "gen/ts")),
      });
    symlinkSync(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
    writeFileSync(join(root, "gen/python/rr/tcp/v1/tcp_pb2.py"), "# edited by hand\n", { flag: "a" });
    rmSync(join(root, "gen/go/rr/tcp/v1/control.pb.go"));
    writeFileSync(join(root, "gen/go/rr/tcp/v1/stale.pb.go"), "package tcpv1\n");
    writeFileSync(join(root, "gen/php/composer.json"), "{}\n");
    // What pip, make and Composer leave behind is not a problem.
    for (const dir of ["gen/python/build/lib", "gen/python/rr_tcp_proto.egg-info", "gen/cpp/build", "gen/php/vendor"]) {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, "x"), "");
    }
    writeFileSync(join(root, "gen/python/rr/tcp/v1/__pycache__"), "");
    const result = checkBindings({ root });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      "differs: gen/python/rr/tcp/v1/tcp_pb2.py",
      "missing: gen/go/rr/tcp/v1/control.pb.go",
      "not generated any more: gen/go/rr/tcp/v1/stale.pb.go",
      "differs: gen/php/composer.json",
    ]);
    expect(result.hint).toContain("libprotoc 3.21.12");
  }, 60_000);

  it("makes each folder a package at the schema's version, with its build outputs ignored by git", () => {
    const read = (path: string): string => readFileSync(join(REPO_ROOT, "gen", path), "utf8");
    expect(read("python/pyproject.toml")).toMatch(
      new RegExp(`^name = "rr-tcp-proto"\nversion = "${SCHEMA_VERSION}"$`, "m"),
    );
    expect(read("go/go.mod")).toContain(`module ${goModulePath()}\n`);
    expect(read("go/go.mod")).toContain(`tags gen/go/v${SCHEMA_VERSION}`);
    expect(JSON.parse(read("php/composer.json"))).toMatchObject({ name: "rr-tcp/proto", version: SCHEMA_VERSION });
    expect(read("java/Makefile")).toContain(`VERSION := ${SCHEMA_VERSION}\n`);
    expect(read("cpp/Makefile")).toContain(`VERSION := ${SCHEMA_VERSION}\n`);
    for (const [language, outputs] of Object.entries(BUILD_OUTPUTS)) {
      const ignored = read(`${language}/.gitignore`).split("\n");
      for (const output of outputs) expect(ignored, `gen/${language}/.gitignore`).toContain(output);
    }
  });

  it("generates every language offline, each with its package files", () => {
    const out = temp();
    const result = generateBindings({ outRoot: out });
    expect(result).toEqual({ generated: ["python", "go", "php", "java", "cpp"], skipped: [] });
    for (const file of [
      "gen/python/rr/tcp/v1/tcp_pb2.py",
      "gen/python/rr/tcp/v1/tcp_pb2.pyi",
      "gen/go/rr/tcp/v1/tcp.pb.go",
      "gen/php/Rr/Tcp/V1/RequestContext.php",
      "gen/java/com/rr/tcp/v1/RequestContext.java",
      "gen/cpp/rr/tcp/v1/tcp.pb.h",
    ]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    for (const file of ["python/pyproject.toml", "go/go.mod", "php/composer.json", "java/Makefile", "cpp/Makefile"])
      expect(existsSync(join(out, "gen", file)), file).toBe(true);
    // Every language is committed: none ignores itself as a whole.
    for (const language of COMMITTED_LANGUAGES) {
      const ignore = join(out, "gen", language, ".gitignore");
      if (existsSync(ignore)) expect(readFileSync(ignore, "utf8")).not.toMatch(/^\*$/m);
    }
    // gen/go is a module whose path is the go_package prefix buf's managed mode wrote.
    expect(readFileSync(join(out, "gen/go/go.mod"), "utf8")).toContain(`module ${goModulePath()}\n`);
    expect(readFileSync(join(out, "gen/go/rr/tcp/v1/tcp.pb.go"), "utf8")).toContain("package tcpv1");
  }, 60_000);

  it("skips a language whose tool is missing and names the Debian package that provides it", () => {
    const saved = { PATH: process.env.PATH, PROTOC: process.env.PROTOC };
    process.env.PROTOC = "/nonexistent/protoc";
    process.env.PATH = "/nonexistent";
    try {
      // Both languages are skipped, so buf does not even run.
      const result = generateBindings({ languages: ["python", "go"], outRoot: temp() });
      expect(result.generated).toEqual([]);
      expect(result.skipped).toEqual([
        {
          language: "python",
          missing: [{ tool: "protoc", lookedFor: "/nonexistent/protoc", debianPackage: "protobuf-compiler" }],
        },
        {
          language: "go",
          missing: [{ tool: "protoc-gen-go", lookedFor: "protoc-gen-go on PATH", debianPackage: "protoc-gen-go" }],
        },
      ]);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("rejects a language the template does not have", () => {
    expect(() => generateBindings({ languages: ["rust"], outRoot: temp() })).toThrow(/unknown language\(s\) rust/);
  });
});
