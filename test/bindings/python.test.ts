/**
 * The Python bindings (gen/python, the package rr-tcp-proto) and worker (examples/python), run with
 * Debian's /usr/bin/python3 and python3-protobuf.
 */
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { encodePayloadFrame, FrameFlag } from "../../src/goridge/index.js";
import { jsonContextCodec, protoContextCodec } from "../../src/protocol/index.js";
import { describeLanguage } from "./cross-language.js";
import { SCHEMA_VERSION } from "../../src/protocol/schema-version.js";
import {
  installPythonPackage,
  missingPip,
  PYTHON,
  PYTHON_ECHO_WORKER,
  pythonEnv,
  requirePython,
  TOOLCHAINS_REQUIRED,
} from "./toolchain.js";
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

  const noPip = missingPip();
  it.skipIf(noPip !== undefined && !TOOLCHAINS_REQUIRED)(
    `installs with pip as rr-tcp-proto at the schema version, and the echo worker uses the installed package${noPip ? `: skipped, ${noPip}` : ""}`,
    async () => {
      const python = installPythonPackage();
      // Outside the checkout, with examples/python on the path for rr_tcp_worker but not gen/python.
      const probe = spawnSync(
        python,
        [
          "-c",
          "import importlib.metadata as m, json, rr_tcp_worker; from rr.goridge.v1 import goridge_pb2; " +
            "print(json.dumps({'version': m.version('rr-tcp-proto'), 'tcp_pb2': rr_tcp_worker.bindings().__file__, " +
            "'goridge_pb2': goridge_pb2.__file__, 'files': sorted(str(f) for f in m.files('rr-tcp-proto') if str(f).endswith('.pyi'))}))",
        ],
        { cwd: tmpdir(), encoding: "utf8", env: pythonEnv({ PYTHONPATH: dirname(PYTHON_ECHO_WORKER) }) },
      );
      expect(probe.stderr).toBe("");
      const installed = JSON.parse(probe.stdout) as {
        version: string;
        tcp_pb2: string;
        goridge_pb2: string;
        files: string[];
      };
      const sitePackages = `${dirname(dirname(python))}/lib/`;
      expect(installed.version).toBe(SCHEMA_VERSION);
      expect(installed.tcp_pb2.startsWith(sitePackages), installed.tcp_pb2).toBe(true);
      expect(installed.goridge_pb2.startsWith(sitePackages), installed.goridge_pb2).toBe(true);
      expect(installed.files).toContain("rr/tcp/v1/tcp_pb2.pyi");

      // The worker in that environment decodes protobuf contexts with the installed package.
      const session = new WorkerSession([python, PYTHON_ECHO_WORKER], pythonEnv());
      try {
        const context = { remote_addr: "127.0.0.1:1", server: "s", uuid: "u", event: TcpEvent.DATA };
        const reply = await session.exchange(
          encodePayloadFrame(protoContextCodec.encode(context), Buffer.from("hi\n"), FrameFlag.CODEC_PROTO),
        );
        expect(reply.payload.toString()).toBe("WRITEhi\n");
      } finally {
        session.kill();
      }
    },
    120_000,
  );
});
