/**
 * A reference point, not a product: the plainest one-hop forwarder from TCP clients to worker
 * processes over pipes (goridge frames, one event per worker at a time, FIFO queue; no
 * CONNECTED/CLOSE events, no limits, no supervision). rr-tcp against this row shows what its
 * own machinery costs beyond the unavoidable hop through a worker process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { encodePayloadFrame, splitPayload } from "../../src/goridge/index.js";
import { requestPid, StreamRelay } from "../../src/relay/index.js";
import { jsonContextCodec } from "../../src/protocol/index.js";
import { RequestContext, TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import type { RunningTarget } from "./targets.js";

interface NaiveWorker { relay: StreamRelay; child: ChildProcess; client: Socket | undefined }

export async function startNaiveForwarder(command: string[], workers: number): Promise<RunningTarget> {
  const idle: NaiveWorker[] = [];
  const queue: [Socket, Buffer][] = [];
  const all: NaiveWorker[] = [];
  const context = jsonContextCodec.encode(RequestContext.create({ remote_addr: "127.0.0.1:1", server: "bench", uuid: "00000000-0000-4000-8000-000000000000", event: TcpEvent.DATA }));
  const send = (worker: NaiveWorker, client: Socket, body: Buffer) => {
    worker.client = client;
    worker.relay.send(encodePayloadFrame(context, body, 0));
  };
  for (let i = 0; i < workers; i++) {
    const child = spawn(command[0]!, command.slice(1), { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, RR_RELAY: "pipes" } });
    const relay = new StreamRelay(child.stdout!, child.stdin!);
    await requestPid(relay, process.pid, 30_000);
    const worker: NaiveWorker = { relay, child, client: undefined };
    void (async () => {
      for (;;) {
        const frame = await relay.receive();
        worker.client?.write(splitPayload(frame).body);
        const next = queue.shift();
        if (next) send(worker, next[0], next[1]);
        else idle.push(worker);
      }
    })().catch(() => {});
    idle.push(worker);
    all.push(worker);
  }
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on("data", (chunk) => {
      const worker = idle.shift();
      if (worker) send(worker, socket, chunk);
      else queue.push([socket, chunk]);
    });
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    pid: process.pid,
    workerPids: all.map((worker) => worker.child.pid!),
    stop: async () => {
      await new Promise((resolve) => server.close(resolve));
      for (const worker of all) worker.child.kill("SIGKILL");
    },
  };
}
