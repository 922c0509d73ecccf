/**
 * The Python bindings (gen/python) and worker (examples/python), run with Debian's /usr/bin/python3
 * and python3-protobuf.
 */
import { describe, expect, it } from "vitest";
import { TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { encodePayloadFrame, FrameFlag } from "../../src/goridge/index.js";
import { jsonContextCodec, protoContextCodec } from "../../src/protocol/index.js";
import { describeLanguage } from "./cross-language.js";
import { PYTHON, PYTHON_ECHO_WORKER, pythonEnv, requirePython } from "./toolchain.js";
import { WorkerSession } from "../fixtures/worker-session.js";

describe("python", () => {
  describeLanguage("python");

  it("serves JSON contexts without the protobuf runtime, and says what is missing for protobuf ones", async () => {
    requirePython();
    // -S leaves out site-packages, and with them Debian's python3-protobuf: the worker must still
    // speak RoadRunner's JSON, which needs nothing beyond the standard library.
    const session = new WorkerSession([PYTHON, "-S", PYTHON_ECHO_WORKER], pythonEnv());
    try {
      const context = { remote_addr: "127.0.0.1:1", server: "s", uuid: "u", event: TcpEvent.DATA };
      const json = await session.exchange(encodePayloadFrame(jsonContextCodec.encode(context), Buffer.from("hi\n")));
      expect(json.payload.toString()).toBe("WRITEhi\n");
      const proto = await session.exchange(
        encodePayloadFrame(protoContextCodec.encode(context), Buffer.from("hi\n"), FrameFlag.CODEC_PROTO),
      );
      expect(proto.flags).toBe(FrameFlag.ERROR);
      expect(proto.payload.toString()).toContain("python3-protobuf");
    } finally {
      session.kill();
    }
  });
});
