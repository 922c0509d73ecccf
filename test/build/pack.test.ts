/**
 * The package people install: `npm pack` on a checkout with no build output (a copy of the working
 * tree; prepack builds it) yields a tarball that holds what the runtime needs and none of the
 * tests, and that, installed into a new ESM project from npm's cache (no network), serves
 * through `npx rr-tcp serve` with a TypeScript worker importing `rr-tcp/worker`, stops on
 * SIGTERM, and typechecks strict code against `rr-tcp/schema` and `rr-tcp/worker`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameFlag } from "../../gen/ts/rr/goridge/v1/goridge.js";
import { SCHEMA_PACKAGE, SCHEMA_VERSION } from "../../src/protocol/index.js";
import { eventually, scaled, within } from "../fixtures/eventually.js";
import { isAlive } from "../fixtures/process-alive.js";
import { openClient, portOf } from "../server/harness.js";
import {
  consumerEnv,
  consumerProject,
  copyWorkingTree,
  integrityOf,
  run,
  type PackedManifest,
} from "./consumer-project.js";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const scratch = mkdtempSync(join(tmpdir(), "rr-tcp-pack-"));
const checkout = join(scratch, "checkout");
const packDir = join(scratch, "pack");
const project = join(scratch, "project");
const env = consumerEnv(root);

/** Every file of the tarball, relative to its package/ folder. */
let tarballFiles: string[] = [];
let manifest: PackedManifest & { exports: Record<string, { types: string; default: string }> };

beforeAll(async () => {
  copyWorkingTree(root, checkout);
  mkdirSync(packDir);
  // prepack builds dist/ in the copy; npm pack runs no tests, so this cannot recurse.
  await run("npm", ["pack", "--pack-destination", packDir], { cwd: checkout, env, timeout: scaled(240_000) });
  const tarballs = readdirSync(packDir).filter((name) => name.endsWith(".tgz"));
  expect(tarballs).toHaveLength(1);
  const tarball = join(packDir, tarballs[0]!);
  tarballFiles = (await run("tar", ["-tzf", tarball], { cwd: scratch, env, timeout: scaled(30_000) }))
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.replace(/^package\//, ""));
  manifest = JSON.parse(readFileSync(join(checkout, "package.json"), "utf8")) as typeof manifest;

  mkdirSync(project);
  const repoLock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Parameters<
    typeof consumerProject
  >[0];
  const spec = `file:${relative(project, tarball)}`;
  const { packageJson, lock } = consumerProject(repoLock, manifest, { spec, integrity: integrityOf(tarball) }, [
    "tsx",
    "typescript",
    "@types/node",
  ]);
  writeFileSync(join(project, "package.json"), JSON.stringify(packageJson, null, 2));
  writeFileSync(join(project, "package-lock.json"), JSON.stringify(lock, null, 2));
  await run("npm", ["ci", "--offline", "--no-audit", "--no-fund"], { cwd: project, env, timeout: scaled(180_000) });
  for (const [file, text] of Object.entries(CONSUMER_FILES)) writeFileSync(join(project, file), text);
}, scaled(480_000));

afterAll(() => {
  for (const server of servers) server.kill();
  rmSync(scratch, { recursive: true, force: true });
});

/** The new project's own files: a worker, its config, and code using the package's exports. */
const CONSUMER_FILES: Record<string, string> = {
  "worker.ts": `import { serve, TcpEvent, type Request } from "rr-tcp/worker";

// stderr: stdout carries the pipes relay's frames, and serve() moves console.log off it only once it runs.
console.error(\`echo worker \${process.pid} starting\`);
await serve((request: Request) => {
  if (request.event === TcpEvent.Data) return request.body; // WRITE the line back
});
`,
  ".rr.yaml": `version: "3"
server:
  command: "node --import tsx worker.ts"
tcp:
  servers:
    main: { addr: "127.0.0.1:0" }
  pool:
    num_workers: 1
`,
  "tsconfig.json": JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      types: ["node"],
    },
    include: ["check.ts", "worker.ts"],
  }),
  "check.ts": `import {
  Config,
  Duration,
  OPTION_SPECS,
  RequestContext,
  TcpEvent,
  TcpResponse,
  WorkerStatus,
  protobufPackage,
  tcpEventToJSON,
  type KeyFacts,
} from "rr-tcp/schema";
import { ControlMessage, FrameFlag } from "rr-tcp/schema/goridge";
import { RpcClient, TcpEvent as PhpEvent, type Handler } from "rr-tcp/worker";

const context: RequestContext = RequestContext.create({ remote_addr: "127.0.0.1:1", server: "main", uuid: "u", event: TcpEvent.DATA });
const bytes: Uint8Array = RequestContext.encode(context).finish();
export const event: string = tcpEventToJSON(RequestContext.decode(bytes).event);
export const config: Config = Config.fromPartial({ tcp: { servers: { main: { addr: "127.0.0.1:0" } } } });
export const timeout: Duration | undefined = config.tcp?.pool?.allocate_timeout;
export const addr: KeyFacts | undefined = OPTION_SPECS["TcpServerOptions"]?.["addr"];
export const verb: TcpResponse = TcpResponse.WRITE;
export const flag: number = FrameFlag.CONTROL;
export const control: ControlMessage = ControlMessage.fromJSON({ pid: 1 });
export const status: WorkerStatus = WorkerStatus.READY;
export const pkg: "rr.tcp.v1" = protobufPackage;
export const handler: Handler = (request) => (request.event === PhpEvent.Data ? request.body : undefined);
export const connect: () => Promise<RpcClient> = () => RpcClient.connect();
// @ts-expect-error remote_addr is a string: the exported types are the schema's, not any.
RequestContext.create({ remote_addr: 1 });
`,
  "runtime.mjs": `import { existsSync } from "node:fs";
import { loadDefaultConfig } from "rr-tcp";
import { OPTION_SPECS, RequestContext, TcpEvent, protobufPackage } from "rr-tcp/schema";
import { FrameFlag, protobufPackage as goridgePackage } from "rr-tcp/schema/goridge";
import { TcpWorker } from "rr-tcp/worker";

const context = RequestContext.create({ remote_addr: "127.0.0.1:1", server: "main", uuid: "u", event: TcpEvent.DATA });
const command = loadDefaultConfig().config.server.command;
process.stdout.write(JSON.stringify({
  context: RequestContext.toJSON(RequestContext.decode(RequestContext.encode(context).finish())),
  packages: [protobufPackage, goridgePackage],
  control: FrameFlag.CONTROL,
  addrKind: OPTION_SPECS.TcpServerOptions.addr.kind,
  sdk: typeof TcpWorker.create,
  defaultWorker: command[command.length - 1],
  defaultWorkerExists: existsSync(command[command.length - 1]),
}));
`,
};

interface Server {
  child: ChildProcess;
  /** Resolves with the first JSON log line on stderr that matches, or fails naming `what`. */
  log(
    predicate: (line: Record<string, unknown>) => boolean,
    what: string,
    ms: number,
  ): Promise<Record<string, unknown>>;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether any process of the child's process group is left. */
  groupAlive(): boolean;
  kill(): void;
}

const servers: Server[] = [];

/** Starts `command` in the project, as the leader of its own process group. */
function startServer(command: string, args: string[]): Server {
  const child = spawn(command, args, { cwd: project, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.resume();
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk.toString();
    for (const listener of listeners) listener();
  });
  // A command that cannot start (no such bin) reports "error" and no "exit": either ends it.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => {
      err += `${error.message}\n`;
      resolve({ code: null, signal: null });
    });
  });
  // No more output can come once every process holding the pipes is gone, which for npx is later
  // than its own exit: rr-tcp, its grandchild, still logs while it drains.
  // (After a failed spawn too, Node emits "close".)
  const silent = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const lines = (): Record<string, unknown>[] =>
    err
      .split("\n")
      .filter((line) => line.startsWith("{") && line.endsWith("}"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const groupAlive = (): boolean => {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  const server: Server = {
    child,
    stderr: () => err,
    exited,
    groupAlive,
    kill: () => {
      if (groupAlive()) process.kill(-child.pid!, "SIGKILL");
    },
    log(predicate, what, ms) {
      let check = (): boolean => false;
      const found = new Promise<Record<string, unknown>>((resolve, reject) => {
        check = () => {
          const line = lines().find(predicate);
          if (line) resolve(line);
          return line !== undefined;
        };
        listeners.add(check);
        void silent.then(() => {
          if (!check()) reject(new Error(`${command} ended before ${what}; stderr:\n${err}`));
        });
        check();
      });
      return within(found, { timeout: ms, what, detail: () => `stderr:\n${err}` }).finally(() =>
        listeners.delete(check),
      );
    },
  };
  servers.push(server);
  return server;
}

/** Whether a process is gone. */
const gone = (pid: number): boolean => !isAlive(pid);

describe("npm pack", () => {
  it("holds the runtime, its types, the license, the README and the proto sources, and no tests", () => {
    const files = new Set(tarballFiles);
    const compiled = (dir: string): string[] =>
      (readdirSync(join(checkout, dir), { recursive: true, encoding: "utf8" }) as string[])
        .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
        .flatMap((file) => {
          const base = join("dist", dir, file).replace(/\.ts$/, "");
          return [`${base}.js`, `${base}.d.ts`];
        });
    const protos = (readdirSync(join(checkout, "proto/rr"), { recursive: true, encoding: "utf8" }) as string[])
      .filter((file) => file.endsWith(".proto"))
      .map((file) => join("proto/rr", file));
    const expected = [
      "LICENSE",
      "README.md",
      "package.json",
      "dist/bin/rr-tcp",
      "dist/examples/echo-worker.js",
      ...Object.values(manifest.exports).flatMap((entry) => [entry.types, entry.default].map((f) => f.slice(2))),
      ...compiled("src"),
      ...compiled("gen/ts"),
      ...protos,
    ];
    expect(expected).toEqual(expect.arrayContaining(["dist/src/worker/index.js", "dist/src/schema/index.d.ts"]));
    expect(protos).toEqual(expect.arrayContaining(["proto/rr/tcp/v1/tcp.proto", "proto/rr/tcp/v1/options.proto"]));
    expect(expected.filter((file) => !files.has(file))).toEqual([]);
    // Nothing but the runtime: no tests, benchmarks, scripts, TypeScript sources, source maps
    // (their sources are not shipped) or schema release images (those are for buf breaking).
    const unexpected = tarballFiles.filter(
      (file) =>
        !/^(LICENSE|README\.md|package\.json|schema\/rr-tcp\.schema\.json)$/.test(file) &&
        !/^dist\/(bin\/rr-tcp|examples\/echo-worker\.(js|d\.ts)|(src|gen\/ts)\/.+\.(js|d\.ts))$/.test(file) &&
        !/^proto\/rr\/.+\.proto$/.test(file),
    );
    expect(unexpected).toEqual([]);
    expect(tarballFiles.filter((file) => /(^|\/)test\//.test(file))).toEqual([]);
  });
});

describe("the installed package, in a new ESM project", () => {
  it(
    "`npx -- rr-tcp --version` is the packed version and schema",
    async () => {
      // `--`: npx takes a --version after the command name for its own (npm's version).
      const out = await run("npx", ["--no", "--", "rr-tcp", "--version"], {
        cwd: project,
        env,
        timeout: scaled(60_000),
      });
      expect(out.trim()).toBe(`rr-tcp ${manifest.version} (schema ${SCHEMA_PACKAGE} ${SCHEMA_VERSION})`);
    },
    scaled(90_000),
  );

  it(
    "`npx rr-tcp serve -c` runs the project's TypeScript worker, echoes a line, and stops on SIGTERM",
    async () => {
      // The process group gets the signal, as a terminal or a process manager's control group sends
      // it: SIGTERM to npx's pid alone stops npm and its sh, which pass it on to no one.
      const server = startServer("npx", ["--no", "rr-tcp", "serve", "-c", join(project, ".rr.yaml")]);
      const ready = await server.log((line) => line.msg === "rr-tcp ready", "rr-tcp ready", 60_000);
      const worker = await server.log(
        (line) => typeof line.msg === "string" && line.msg.startsWith("echo worker "),
        "the worker's first stderr line",
        30_000,
      );
      expect(worker.msg).toBe(`echo worker ${String(worker.workerPid)} starting`);
      expect(worker.workerPid).toEqual(expect.any(Number));
      const port = portOf((ready.servers as Record<string, string>).main!);
      const client = await openClient(port);
      client.socket.write("hello over the installed package\r\n");
      await client.receive("hello over the installed package\r\n", 15_000);

      process.kill(-server.child.pid!, "SIGTERM");
      await within(client.ended, { timeout: 30_000, what: "FIN from the draining server" });
      client.socket.destroy();
      const stopped = await server.log((line) => line.msg === "rr-tcp stopped", "rr-tcp stopped", 30_000);
      expect(stopped.drained).toBe(true);
      await eventually(() => !server.groupAlive(), { timeout: 30_000, what: "npx and rr-tcp gone" });
      // The worker runs in its own process group; rr-tcp stopped it.
      await eventually(() => gone(worker.workerPid as number), { timeout: 30_000, what: "the worker gone" });
      await expect(openClient(port)).rejects.toThrow(/ECONNREFUSED/);
    },
    scaled(240_000),
  );

  it(
    "its bin, run as a process manager runs it, exits 0 on SIGTERM to its own pid",
    async () => {
      const server = startServer(join(project, "node_modules/.bin/rr-tcp"), ["serve", "-c", ".rr.yaml"]);
      const ready = await server.log((line) => line.msg === "rr-tcp ready", "rr-tcp ready", 60_000);
      // The launcher exec'd node, so the pid that got the signal is the server's.
      expect(ready.pid).toBe(server.child.pid);
      server.child.kill("SIGTERM");
      expect(await within(server.exited, { timeout: 30_000, what: "rr-tcp to exit" })).toEqual({
        code: 0,
        signal: null,
      });
      expect(server.stderr()).toContain('"msg":"rr-tcp stopped"');
    },
    scaled(120_000),
  );

  it(
    "imports rr-tcp, rr-tcp/schema, rr-tcp/schema/goridge and rr-tcp/worker in plain node",
    async () => {
      const out = await run(process.execPath, ["runtime.mjs"], { cwd: project, env, timeout: scaled(60_000) });
      const seen = JSON.parse(out) as Record<string, unknown>;
      expect(seen).toEqual({
        context: { remoteAddr: "127.0.0.1:1", server: "main", uuid: "u", event: "TCP_EVENT_DATA" },
        packages: ["rr.tcp.v1", "rr.goridge.v1"],
        control: FrameFlag.CONTROL,
        addrKind: "string",
        sdk: "function",
        // The built-in default config runs the compiled echo worker from the installed package.
        defaultWorker: join(project, "node_modules/rr-tcp/dist/examples/echo-worker.js"),
        defaultWorkerExists: true,
      });
    },
    scaled(90_000),
  );

  it(
    "typechecks strict code against rr-tcp/schema, rr-tcp/schema/goridge and rr-tcp/worker",
    async () => {
      expect(existsSync(join(project, "node_modules/.bin/tsc"))).toBe(true);
      // No skipLibCheck: the shipped declarations must check too, with only the project's deps.
      await run(join(project, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], {
        cwd: project,
        env,
        timeout: scaled(180_000),
      });
    },
    scaled(200_000),
  );
});
