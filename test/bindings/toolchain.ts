/**
 * The Python and Go toolchains the bindings tests drive. Each `require*` fails with the Debian
 * package to install, never skips: CI installs them (.ci/run), and a skipped cross-language test
 * would prove nothing. Only installing gen/python with pip is skipped without pip, unless
 * RR_TCP_REQUIRE_TOOLCHAINS=1. The Go programs are built once per source state into a temporary
 * folder shared by every test file (and every run), keyed by a hash of their sources.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { isBuildOutput, REPO_ROOT } from "../../scripts/gen-bindings.js";

export { REPO_ROOT };

/** Debian's interpreter, which has python3-protobuf; the `python3` on PATH may not. */
export const PYTHON = process.env.RR_TCP_PYTHON ?? "/usr/bin/python3";
export const PYTHON_ECHO_WORKER = join(REPO_ROOT, "examples/python/echo_worker.py");
const PYTHON_XLANG = join(REPO_ROOT, "test/bindings/python/xlang.py");

const EXAMPLES_GO = join(REPO_ROOT, "examples/go");
const XLANG_GO = join(REPO_ROOT, "test/bindings/go");

/** The environment for Python: no bytecode files in the work tree (gen/python is checked). */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...extra };
}

/** The checkout's Go workspace: gen/go, examples/go and test/bindings/go, offline on Debian. */
export const GO_WORK = join(REPO_ROOT, "go.work");

/** The environment for Go: offline, the checkout's workspace, a cache that works without $HOME. */
export function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOPROXY: "off",
    GOWORK: GO_WORK,
    // A workspace allows no -mod=mod; none from the caller's environment either.
    GOFLAGS: "",
    GOCACHE: process.env.GOCACHE ?? join(tmpdir(), "rr-tcp-go-cache"),
    // Unused with every dependency replaced by a local folder, but go refuses to run without it.
    GOPATH: process.env.GOPATH ?? join(tmpdir(), "rr-tcp-gopath"),
  };
}

/** Debian's Go module sources that go.work points at, and the package of each. */
const DEBIAN_GO_MODULES: readonly [string, string][] = [
  ["google.golang.org/protobuf", "golang-google-protobuf-dev"],
  ["github.com/golang/protobuf", "golang-github-golang-protobuf-1-5-dev"],
  ["github.com/google/go-cmp", "golang-github-google-go-cmp-dev"],
];

let pythonChecked = false;

/** Throws unless Debian's python3 with python3-protobuf is there. */
export function requirePython(): void {
  if (pythonChecked) return;
  const result = spawnSync(PYTHON, ["-c", "import google.protobuf, sys; print(google.protobuf.__version__)"], {
    encoding: "utf8",
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      `${PYTHON} with the protobuf runtime is needed: apt-get install python3 python3-protobuf ` +
        `(or set RR_TCP_PYTHON to an interpreter that has it): ${result.error?.message ?? result.stderr.trim()}`,
    );
  }
  pythonChecked = true;
}

let goChecked = false;

/** Throws unless go and Debian's Go protobuf sources are there. */
export function requireGo(): void {
  if (goChecked) return;
  const result = spawnSync("go", ["version"], { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    throw new Error(
      `go is needed for the Go worker: apt-get install golang-go golang-google-protobuf-dev: ${result.error?.message ?? result.stderr.trim()}`,
    );
  }
  const absent = DEBIAN_GO_MODULES.filter(([module]) => !existsSync(`/usr/share/gocode/src/${module}/go.mod`));
  if (absent.length > 0) {
    throw new Error(
      `Go modules from Debian are needed in /usr/share/gocode (go.work points there): ` +
        `apt-get install ${absent.map(([, pkg]) => pkg).join(" ")}`,
    );
  }
  goChecked = true;
}

function goSources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return goSources(path);
    return /\.(go|mod|sum)$/.test(entry) && !entry.endsWith("_test.go") ? [path] : [];
  });
}

export interface GoPrograms {
  echoWorker: string;
  xlang: string;
}

let built: GoPrograms | undefined;

/**
 * Builds examples/go/echo-worker and test/bindings/go once per source state; later calls, in
 * this process or another test file's, reuse the binaries.
 */
export function buildGo(): GoPrograms {
  if (built) return built;
  requireGo();
  const hash = createHash("sha256");
  hash.update(execFileSync("go", ["version"], { encoding: "utf8" }));
  for (const file of [EXAMPLES_GO, XLANG_GO, join(REPO_ROOT, "gen/go")].flatMap(goSources).concat(GO_WORK).sort()) {
    hash.update(relative(REPO_ROOT, file)).update(readFileSync(file));
  }
  const dir = join(tmpdir(), `rr-tcp-go-bin-${hash.digest("hex").slice(0, 16)}`);
  mkdirSync(dir, { recursive: true });
  const programs = { echoWorker: join(dir, "echo-worker"), xlang: join(dir, "xlang") };
  const build = (cwd: string, pkg: string, out: string): void => {
    if (existsSync(out)) return;
    // Build beside, then rename: a test file running in parallel sees the old state or the whole
    // binary, never half of one.
    const partial = `${out}.${process.pid}.partial`;
    const result = spawnSync("go", ["build", "-o", partial, pkg], { cwd, env: goEnv(), encoding: "utf8" });
    if (result.status !== 0)
      throw new Error(
        `go build ${pkg} in ${relative(REPO_ROOT, cwd)} failed:\n${result.stderr}${result.error?.message ?? ""}`,
      );
    renameSync(partial, out);
  };
  build(EXAMPLES_GO, "./echo-worker", programs.echoWorker);
  build(XLANG_GO, ".", programs.xlang);
  built = programs;
  return built;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, what: string, cwd = REPO_ROOT): string {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(
      `${what} ${args.join(" ")} failed (exit ${result.status ?? result.signal}):\n${result.stderr}${result.error?.message ?? ""}`,
    );
  }
  return result.stdout;
}

/** Runs test/bindings/python/xlang.py with the arguments; returns its stdout. */
export function pythonXlang(args: string[]): string {
  requirePython();
  return run(PYTHON, [PYTHON_XLANG, ...args], pythonEnv(), "xlang.py");
}

/** Runs the Go build of test/bindings/go with the arguments; returns its stdout. */
export function goXlang(args: string[]): string {
  return run(buildGo().xlang, args, goEnv(), "xlang (Go)");
}

/** `go test ./...` in examples/go; returns its output, throws on failure. */
export function goTestExamples(): string {
  requireGo();
  return run("go", ["test", "./..."], goEnv(), "go test in examples/go", EXAMPLES_GO);
}

/** How to start each language's echo worker, and its xlang helper as a worker that fails on purpose. */
export interface WorkerCommands {
  language: "python" | "go";
  echo: string[];
  failing: string[];
  env: NodeJS.ProcessEnv;
}

export function workerCommands(language: "python" | "go"): WorkerCommands {
  if (language === "python") {
    requirePython();
    return {
      language,
      echo: [PYTHON, PYTHON_ECHO_WORKER],
      failing: [PYTHON, PYTHON_XLANG, "serve-failing"],
      env: pythonEnv(),
    };
  }
  const programs = buildGo();
  return { language, echo: [programs.echoWorker], failing: [programs.xlang, "serve-failing"], env: goEnv() };
}

/** Set by .ci/run: a missing optional tool fails the tests instead of skipping them. */
export const TOOLCHAINS_REQUIRED = process.env.RR_TCP_REQUIRE_TOOLCHAINS === "1";

// ---------------------------------------------------------------------------------------------
// Python: gen/python installed as a package.

/** Why `pip install ./gen/python` cannot be tried here, or undefined. */
export function missingPip(): string | undefined {
  const result = spawnSync(
    PYTHON,
    [
      "-c",
      "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in ('pip', 'setuptools', 'wheel', 'venv')))",
    ],
    { encoding: "utf8" },
  );
  if (result.status === 0) return undefined;
  return `pip, setuptools and wheel for ${PYTHON} are needed to install gen/python: apt-get install python3-pip`;
}

/**
 * A virtual environment with gen/python installed by pip, offline: Debian's setuptools builds it
 * (--no-build-isolation), Debian's python3-protobuf satisfies its dependency (the environment sees
 * the system's packages). pip builds in the folder it is given, so it gets a copy of gen/python.
 * Returns the environment's python.
 */
export function installPythonPackage(): string {
  requirePython();
  const missing = missingPip();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), "rr-tcp-pip-"));
  const source = join(dir, "src");
  cpSync(join(REPO_ROOT, "gen/python"), source, {
    recursive: true,
    filter: (path) => !isBuildOutput("python", relative(join(REPO_ROOT, "gen/python"), path)),
  });
  run(
    PYTHON,
    ["-m", "venv", "--system-site-packages", "--without-pip", join(dir, "venv")],
    pythonEnv(),
    "python3 -m venv",
  );
  const python = join(dir, "venv/bin/python");
  run(
    python,
    ["-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-index", "--no-cache-dir", source],
    pythonEnv({ PIP_DISABLE_PIP_VERSION_CHECK: "1" }),
    "pip install gen/python",
  );
  return python;
}
