/**
 * The Python worker's frame reader refuses a header that announces more than 256 MiB
 * (rr-tcp's limit) at once, as the TypeScript reader does, instead of waiting for and holding up
 * to 4 GiB. (The Go reader's check is in examples/go/goridge/frame_test.go, run by go.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PYTHON, pythonEnv, REPO_ROOT, requirePython } from "./toolchain.js";

describe("python goridge payload limit", () => {
  it("read_frame fails on a 4 GiB header before reading any payload", () => {
    requirePython();
    const script = [
      "import io, struct, sys, zlib",
      `sys.path.insert(0, ${JSON.stringify(join(REPO_ROOT, "examples/python"))})`,
      "import goridge",
      "h = bytearray(12); h[0] = 0x13",
      "struct.pack_into('<I', h, 2, 0xfffffff0); struct.pack_into('<I', h, 6, zlib.crc32(bytes(h[:6])))",
      "stream = io.BytesIO(bytes(h))",
      "try:",
      "    goridge.read_frame(stream.read)",
      "    print('no error')",
      "except goridge.FrameError as e:",
      "    print(e)",
    ].join("\n");
    const result = spawnSync(PYTHON, ["-c", script], { env: pythonEnv(), encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toMatch(/^payload of 4294967280 bytes is over the limit of 268435456 bytes/);
  });
});
