/**
 * Every worker SDK of the project (TypeScript, and the Python and Go ones in examples/) offers to
 * echo event ids in its pid reply and repeats a request's id in its reply, the ERROR reply
 * included (docs/wire.md#event-ids-rr-tcp); a request without one, as RoadRunner sends, gets a reply
 * without one. Real processes over pipes, driven frame by frame.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import {
  encodeControlFrame,
  encodePayloadFrame,
  FrameFlag,
  parseControl,
  splitPayload,
  type Frame,
} from "../../src/goridge/index.js";
import { jsonContextCodec } from "../../src/protocol/index.js";
import { StreamRelay } from "../../src/relay/index.js";
import { within } from "../fixtures/eventually.js";
import { REPO_ROOT, workerCommands } from "./toolchain.js";

const TS_ECHO = [process.execPath, "--import", "tsx", join(REPO_ROOT, "examples/echo-worker.ts")];

interface Sdk {
  command: string[];
  env: NodeJS.ProcessEnv;
  /** It answers a context it cannot decode with an ERROR frame (the TypeScript SDK exits instead). */
  errorsOnBadContext?: boolean;
}

const sdks: Array<[string, () => Sdk]> = [
  ["TypeScript", () => ({ command: TS_ECHO, env: process.env })],
  [
    "Python",
    () => {
      const w = workerCommands("python");
      return { command: w.echo, env: w.env, errorsOnBadContext: true };
    },
  ],
  [
    "Go",
    () => {
      const w = workerCommands("go");
      return { command: w.echo, env: w.env, errorsOnBadContext: true };
    },
  ],
];

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill("SIGKILL");
  child = undefined;
});

function context(event: TcpEvent): Buffer {
  return jsonContextCodec.encode({
    remote_addr: "127.0.0.1:5555",
    server: "main",
    uuid: "6f1d0c52-3c36-4b8a-9a7e-2f7c1a0e4b11",
    event,
  });
}

describe.each(sdks)("the %s worker", (_name, commandOf) => {
  it("offers to echo event ids, echoes them when sent, and sends none when it got none", async () => {
    const { command, env, errorsOnBadContext } = commandOf();
    const [file, ...args] = command as [string, ...string[]];
    child = spawn(file, args, { env: { ...env, RR_RELAY: "pipes" }, stdio: ["pipe", "pipe", "inherit"] });
    const relay = new StreamRelay(child.stdout!, child.stdin!, { name: "test" });
    const next = (): Promise<Frame> => within(relay.receive(), { timeout: 15_000, what: "the worker's frame" });

    relay.send(encodeControlFrame({ pid: process.pid }));
    const hello = parseControl(await next());
    expect(hello).toMatchObject({ pid: child.pid, echo_event_id: true });

    // With an id: the reply's options are [context length, the same id].
    relay.send(encodePayloadFrame(context(TcpEvent.CONNECTED), Buffer.alloc(0), 0, 0, 4_000_000_001));
    const connected = await next();
    expect(connected.options).toEqual([8, 4_000_000_001]);
    expect(splitPayload(connected, true).context.toString()).toBe("CONTINUE");

    relay.send(encodePayloadFrame(context(TcpEvent.DATA), Buffer.from("ping\r\n"), 0, 0, 7));
    const data = await next();
    expect(data.options).toEqual([5, 7]);
    expect(splitPayload(data, true).body.toString()).toBe("ping\r\n");

    // A context it cannot read: its ERROR reply carries the id too, after a context length of 0.
    if (errorsOnBadContext) {
      relay.send(encodePayloadFrame(Buffer.from("{not json"), Buffer.alloc(0), 0, 0, 8));
      const failed = await next();
      expect(failed.flags & FrameFlag.ERROR).toBe(FrameFlag.ERROR);
      expect(failed.options).toEqual([0, 8]);
    }

    // Without one, as RoadRunner sends: one option back, as RoadRunner requires.
    relay.send(encodePayloadFrame(context(TcpEvent.DATA), Buffer.from("pong\r\n")));
    const plain = await next();
    expect(plain.options).toEqual([5]);
    expect(splitPayload(plain).body.toString()).toBe("pong\r\n");
    relay.close();
  });
});
