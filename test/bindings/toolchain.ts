/**
 * The toolchains the bindings tests drive. Python and Go run the example workers, so each
 * `require*` fails with the Debian package to install, never skips. PHP, Java and C++ test their
 * bindings: {@link missingToolchain} says what is missing, and their tests skip with that message,
 * except where RR_TCP_REQUIRE_TOOLCHAINS=1 (.ci/run sets it, and installs them all), since a
 * skipped cross-language test proves nothing. Compiled programs (Go, Java, C++) are built once per
 * source state into a temporary folder shared by every test file and every run, keyed by a hash
 * of their sources.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
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

// ---------------------------------------------------------------------------------------------
// PHP, Java and C++: bindings with a test program each, no worker.

/** The languages whose bindings are tested by a decoder/encoder program rather than a worker. */
export type BindingLanguage = "php" | "java" | "cpp";

/** Set by .ci/run: a missing toolchain fails the tests instead of skipping them. */
export const TOOLCHAINS_REQUIRED = process.env.RR_TCP_REQUIRE_TOOLCHAINS === "1";

/** Debian's pure-PHP google/protobuf (php-google-protobuf), or RR_TCP_PHP_PROTOBUF. */
export const PHP_PROTOBUF = process.env.RR_TCP_PHP_PROTOBUF ?? "/usr/share/php";
/** Debian's protobuf-java (libprotobuf-java), or RR_TCP_PROTOBUF_JAR. */
export const PROTOBUF_JAR = process.env.RR_TCP_PROTOBUF_JAR ?? "/usr/share/java/protobuf.jar";

const PHP_XLANG = join(REPO_ROOT, "test/bindings/php/xlang.php");
const JAVA_XLANG = join(REPO_ROOT, "test/bindings/java/Xlang.java");
const CPP_XLANG = join(REPO_ROOT, "test/bindings/cpp/xlang.cc");

const APT: Readonly<Record<BindingLanguage, string>> = {
  php: "php-cli php-google-protobuf",
  java: "default-jdk-headless libprotobuf-java make",
  cpp: "g++ make pkg-config libprotobuf-dev",
};

function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, command)));
}

/**
 * What a language's test needs and is not installed, with the apt-get line that installs it; or
 * undefined when everything is there.
 */
export function missingToolchain(language: BindingLanguage): string | undefined {
  const absent: string[] = [];
  if (language === "php") {
    if (!onPath("php")) absent.push("php");
    if (!existsSync(join(PHP_PROTOBUF, "Google/Protobuf/Internal/Message.php")))
      absent.push(`google/protobuf in ${PHP_PROTOBUF}`);
  } else if (language === "java") {
    for (const tool of ["java", "javac", "jar", "make"]) if (!onPath(tool)) absent.push(tool);
    if (!existsSync(PROTOBUF_JAR)) absent.push(PROTOBUF_JAR);
  } else {
    for (const tool of ["c++", "make", "pkg-config"]) if (!onPath(tool)) absent.push(tool);
    if (absent.length === 0 && spawnSync("pkg-config", ["--exists", "protobuf"]).status !== 0)
      absent.push("libprotobuf (pkg-config protobuf)");
  }
  if (absent.length === 0) return undefined;
  return `${language}: ${absent.join(", ")} not installed: apt-get install ${APT[language]}`;
}

/** Every file under `dir` except the language's build outputs, for a build's cache key. */
function filesUnder(dir: string, language: string, base = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (isBuildOutput(language, relative(base, path))) return [];
    return statSync(path).isDirectory() ? filesUnder(path, language, base) : [path];
  });
}

/**
 * Runs `build(dir)` into a fresh folder unless a folder for the same inputs exists already, then
 * returns that folder. The key is a hash of the files and the tool versions; the folder appears
 * whole or not at all (renamed into place), so test files running in parallel share one build.
 */
function cachedBuild(name: string, inputs: string[], versions: string[], build: (dir: string) => void): string {
  const hash = createHash("sha256");
  for (const v of versions) hash.update(v);
  for (const file of [...inputs].sort()) hash.update(relative(REPO_ROOT, file)).update(readFileSync(file));
  const dir = join(tmpdir(), `rr-tcp-${name}-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(dir)) return dir;
  const partial = mkdtempSync(`${dir}.partial-`);
  try {
    build(partial);
    try {
      renameSync(partial, dir);
    } catch (err) {
      // Another test file finished the same build first.
      if (!existsSync(dir)) throw err;
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return dir;
}

function version(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return `${result.stdout}${result.stderr}`.trim();
}

/** `make` with the arguments; throws with its output on failure. */
function make(args: string[], what: string, env: NodeJS.ProcessEnv = process.env): void {
  run("make", ["--no-print-directory", ...args], env, what);
}

function requireToolchain(language: BindingLanguage): void {
  const missing = missingToolchain(language);
  if (missing) throw new Error(missing);
}

export interface JavaBuild {
  /** The jar `make install` put in PREFIX/share/java, under its versioned name. */
  jar: string;
  /** What the test program runs with: its classes, the bindings' jar, protobuf-java. */
  classpath: string;
}

let javaBuilt: JavaBuild | undefined;

/**
 * gen/java built and installed with its Makefile (javac against Debian's protobuf-java), and
 * test/bindings/java/Xlang.java compiled against the installed jar.
 */
export function buildJava(): JavaBuild {
  if (javaBuilt) return javaBuilt;
  requireToolchain("java");
  const gen = join(REPO_ROOT, "gen/java");
  const dir = cachedBuild(
    "java",
    [...filesUnder(gen, "java"), JAVA_XLANG],
    [version("javac", ["-version"]), realpathSync(PROTOBUF_JAR)],
    (out) => {
      make(
        [
          "-C",
          gen,
          `BUILD=${join(out, "build")}`,
          `PREFIX=${join(out, "prefix")}`,
          `PROTOBUF_JAR=${PROTOBUF_JAR}`,
          "install",
        ],
        "make install in gen/java",
      );
      const jar = join(out, "prefix/share/java/rr-tcp-proto.jar");
      run(
        "javac",
        ["-nowarn", "-encoding", "UTF-8", "-d", join(out, "classes"), "-cp", `${jar}:${PROTOBUF_JAR}`, JAVA_XLANG],
        process.env,
        "javac Xlang.java",
      );
    },
  );
  const jars = readdirSync(join(dir, "prefix/share/java")).filter((f) => /^rr-tcp-proto-.+\.jar$/.test(f));
  javaBuilt = {
    jar: join(dir, "prefix/share/java", jars[0] ?? "rr-tcp-proto.jar"),
    classpath: [join(dir, "classes"), join(dir, "prefix/share/java/rr-tcp-proto.jar"), PROTOBUF_JAR].join(":"),
  };
  return javaBuilt;
}

export interface CppBuild {
  /** The test program, linked against the installed library. */
  xlang: string;
  /** Where `make install` put the package: include/, lib/, lib/pkgconfig/rr-tcp-proto.pc. */
  prefix: string;
}

let cppBuilt: CppBuild | undefined;

/**
 * gen/cpp built and installed with its Makefile (against Debian's libprotobuf), and
 * test/bindings/cpp/xlang.cc compiled with what the installed rr-tcp-proto.pc says.
 */
export function buildCpp(): CppBuild {
  if (cppBuilt) return cppBuilt;
  requireToolchain("cpp");
  const gen = join(REPO_ROOT, "gen/cpp");
  const dir = cachedBuild(
    "cpp",
    [...filesUnder(gen, "cpp"), CPP_XLANG],
    [version("c++", ["--version"]), version("pkg-config", ["--modversion", "protobuf"])],
    (out) => {
      const prefix = join(out, "prefix");
      // -O0: the test needs the code, not its speed, and this halves the compile time.
      make(
        ["-C", gen, "-j2", `BUILD=${join(out, "build")}`, `PREFIX=${prefix}`, "CXXFLAGS=-O0", "install"],
        "make install in gen/cpp",
      );
      const env = { ...process.env, PKG_CONFIG_PATH: join(prefix, "lib/pkgconfig") };
      const flags = run("pkg-config", ["--cflags", "--libs", "rr-tcp-proto"], env, "pkg-config rr-tcp-proto")
        .trim()
        .split(/\s+/);
      run(
        "c++",
        ["-std=c++17", "-O0", "-Wall", "-Wno-deprecated-declarations", CPP_XLANG, "-o", join(out, "xlang"), ...flags],
        env,
        "c++ xlang.cc",
      );
    },
  );
  cppBuilt = { xlang: join(dir, "xlang"), prefix: join(dir, "prefix") };
  return cppBuilt;
}

/** Builds a language's test program (Java, C++), or throws with what to install when its toolchain is missing. */
export function prepareBindings(language: BindingLanguage): void {
  if (language === "java") buildJava();
  else if (language === "cpp") buildCpp();
  else requireToolchain(language);
}

/** Runs a language's test program with the arguments (and `input` on stdin); returns its stdout. */
export function bindingsXlang(language: BindingLanguage, args: string[], input?: string): string {
  if (language === "php") {
    requireToolchain("php");
    return runWith("php", [PHP_XLANG, ...args], input, "xlang.php");
  }
  if (language === "java")
    return runWith("java", ["-cp", buildJava().classpath, "Xlang", ...args], input, "java Xlang");
  return runWith(buildCpp().xlang, args, input, "xlang (C++)");
}

function runWith(command: string, args: string[], input: string | undefined, what: string): string {
  const result = spawnSync(command, args, {
    cwd: REPO_ROOT,
    input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, RR_TCP_PHP_PROTOBUF: PHP_PROTOBUF },
  });
  if (result.status !== 0) {
    throw new Error(
      `${what} ${args.join(" ")} failed (exit ${result.status ?? result.signal}):\n${result.stderr}${result.error?.message ?? ""}`,
    );
  }
  return result.stdout;
}

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
