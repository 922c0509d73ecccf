/**
 * The worker example in README.md runs as written (its `rr-tcp/worker` import pointed at the
 * sources) and answers the server's frames as the README says.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { encodeControlFrame, encodePayloadFrame, parseControl, splitPayload } from "../../src/goridge/index.js";
import { WorkerSession } from "../fixtures/worker-session.js";
import { jsonContextCodec } from "../../src/protocol/index.js";

const root = new URL("../../", import.meta.url).pathname;

function readmeWorker(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = /## Writing a worker\s+```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error("README.md has no ```ts block under '## Writing a worker'");
  return block[1]!.replace('"rr-tcp/worker"', JSON.stringify(join(root, "src/worker/index.ts")));
}

describe("README worker example", () => {
  it("serves CONNECTED, DATA, quit and CLOSE as documented", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-tcp-readme-"));
    // .mts: top-level await needs ESM, and a temp folder has no package.json saying "type": "module".
    const file = join(dir, "worker.mts");
    writeFileSync(file, readmeWorker());
    const worker = new WorkerSession([process.execPath, "--import", import.meta.resolve("tsx"), file], process.env);
    try {
      worker.send(encodeControlFrame({ pid: process.pid }));
      expect(parseControl(await worker.next(15_000))).toEqual({
        pid: worker.child.pid,
        context_codecs: ["proto"],
        echo_event_id: true,
      });
      const base = RequestContext.create({
        remote_addr: "127.0.0.1:5000",
        server: "smtp",
        uuid: "7d1c0f4e-0000-4000-8000-000000000001",
      });
      const exchange = async (event: TcpEvent, body: string) => {
        const reply = splitPayload(
          await worker.exchange(encodePayloadFrame(jsonContextCodec.encode({ ...base, event }), Buffer.from(body))),
        );
        return [reply.context.toString(), reply.body.toString()];
      };
      expect(await exchange(TcpEvent.CONNECTED, "")).toEqual(["WRITE", "220 ready\r\n"]);
      expect(await exchange(TcpEvent.DATA, "hi\r\n")).toEqual(["WRITE", "hi\r\n"]);
      expect(await exchange(TcpEvent.DATA, "quit\r\n")).toEqual(["WRITECLOSE", "bye\r\n"]);
      expect(await exchange(TcpEvent.CLOSE, "")).toEqual(["CONTINUE", ""]);
      worker.send(encodeControlFrame({ stop: true }));
      expect(await worker.exit()).toEqual({ code: 0, signal: null });
    } finally {
      worker.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("README config example", () => {
  it("loads without errors or warnings", async () => {
    const { parseConfig } = await import("../../src/config/index.js");
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const block = /## Running the server[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme);
    if (!block) throw new Error("README.md has no ```yaml block under '## Running the server'");
    const loaded = parseConfig(block[1]!, { baseDir: root, file: "README.md" });
    expect(loaded.warnings).toEqual([]);
    expect(Object.keys(loaded.config.tcp!.servers)).toEqual(["smtp"]);
    expect(loaded.config.control?.addr).toBe("127.0.0.1:2112");
    expect(loaded.config.rpc?.listen).toBe("tcp://127.0.0.1:6001");
  });
});
