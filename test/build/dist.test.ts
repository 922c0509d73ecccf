/**
 * The built package (`npm run build`, what the published `bin` and `exports` point at) runs
 * without tsx: its CLI starts, and its default worker is the compiled echo worker.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeControlFrame, encodePayloadFrame, parseControl, splitPayload } from "../../src/goridge/index.js";
import { jsonContextCodec, SCHEMA_PACKAGE, SCHEMA_VERSION } from "../../src/protocol/index.js";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { binLauncher } from "../../scripts/write-bin.js";
import { scaled } from "../fixtures/eventually.js";
import { WorkerSession } from "../fixtures/worker-session.js";

const root = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(
  execFileSync("node", ["-p", "JSON.stringify(require('./package.json'))"], { cwd: root, encoding: "utf8" }),
) as {
  version: string;
  bin: Record<string, string>;
  exports: Record<string, { default: string }>;
};
/** What `rr-tcp --version` prints: the package's version and the schema's (docs/releases.md). */
const versionLine = `rr-tcp ${pkg.version} (schema ${SCHEMA_PACKAGE} ${SCHEMA_VERSION})`;

describe("the built package", () => {
  beforeAll(() => {
    execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
  }, scaled(120_000));

  it("has every file its bin and exports name", () => {
    for (const file of [...Object.values(pkg.bin), ...Object.values(pkg.exports).map((e) => e.default)]) {
      expect(existsSync(join(root, file)), file).toBe(true);
    }
  });

  it("runs its CLI with plain node", () => {
    const bin = join(root, "dist/src/cli.js");
    expect(execFileSync(process.execPath, [bin, "--version"], { encoding: "utf8" }).trim()).toBe(versionLine);
    const resolved = execFileSync(
      process.execPath,
      [bin, "validate", "-c", join(root, "test/fixtures/roadrunner-tcp.rr.yaml")],
      { encoding: "utf8" },
    );
    expect(resolved).toMatch(/addr: 127\.0\.0\.1:1025/);
  });

  it("runs as a command through its launcher, which gives node the server's flags", async () => {
    const bin = join(root, pkg.bin["rr-tcp"]!);
    expect(readFileSync(bin, "utf8")).toBe(binLauncher());
    expect(execFileSync(bin, ["--version"], { encoding: "utf8" }).trim()).toBe(versionLine);
    // Through a symlink, as npm links bins into node_modules/.bin.
    const dir = mkdtempSync(join(tmpdir(), "rr-tcp-bin-"));
    try {
      symlinkSync(bin, join(dir, "rr-tcp"));
      expect(execFileSync(join(dir, "rr-tcp"), ["--version"], { encoding: "utf8" }).trim()).toBe(versionLine);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("defaults to the compiled echo worker, which serves without tsx", async () => {
    const { echoWorkerCommand } = (await import(join(root, "dist/src/config/default-config.js"))) as {
      echoWorkerCommand(): string[];
    };
    const command = echoWorkerCommand();
    expect(command).toEqual([process.execPath, join(root, "dist/examples/echo-worker.js")]);
    const worker = new WorkerSession(command, process.env);
    try {
      worker.send(encodeControlFrame({ pid: process.pid }));
      expect(parseControl(await worker.next())).toEqual({
        pid: worker.child.pid,
        context_codecs: ["proto"],
        echo_event_id: true,
      });
      const context = jsonContextCodec.encode(
        RequestContext.create({ remote_addr: "127.0.0.1:1", server: "main", uuid: "u", event: TcpEvent.DATA }),
      );
      const reply = splitPayload(await worker.exchange(encodePayloadFrame(context, Buffer.from("hello\r\n"))));
      expect([reply.context.toString(), reply.body.toString()]).toEqual(["WRITE", "hello\r\n"]);
      worker.send(encodeControlFrame({ stop: true }));
      expect(await worker.exit()).toEqual({ code: 0, signal: null });
    } finally {
      worker.kill();
    }
  });
});
