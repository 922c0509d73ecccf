/** How a serve() handler's return value maps to a verb and a body. */
import { describe, expect, it } from "vitest";
import { TcpResponse } from "../../src/protocol/index.js";
import { replyOf, WorkerError, type Reply } from "../../src/worker/index.js";

describe("replyOf", () => {
  const bytes = Uint8Array.of(1, 2, 3);
  it.each<[string, Reply, TcpResponse, string | Uint8Array]>([
    ["a string: WRITE", "hi\r\n", TcpResponse.WRITE, "hi\r\n"],
    ["bytes: WRITE", bytes, TcpResponse.WRITE, bytes],
    ["a Buffer: WRITE", Buffer.from("b"), TcpResponse.WRITE, Buffer.from("b")],
    ["undefined: CONTINUE", undefined, TcpResponse.CONTINUE, Buffer.alloc(0)],
    ["null: CONTINUE", null, TcpResponse.CONTINUE, Buffer.alloc(0)],
    ["a verb (PHP name)", TcpResponse.Close, TcpResponse.CLOSE, Buffer.alloc(0)],
    ["{ verb, body }", { verb: TcpResponse.RespondClose, body: "bye\r\n" }, TcpResponse.WRITECLOSE, "bye\r\n"],
    ["{ verb } alone", { verb: TcpResponse.Read }, TcpResponse.CONTINUE, Buffer.alloc(0)],
  ])("%s", (_name, value, verb, body) => {
    expect(replyOf(value)).toEqual({ verb, body });
  });

  it.each<[string, unknown]>([
    ["an object without a verb", { body: "x" }],
    ["a number that is no verb", 99],
    ["UNSPECIFIED", TcpResponse.UNSPECIFIED],
    ["a verb with a non-bytes body", { verb: TcpResponse.WRITE, body: 42 }],
    ["a boolean", true],
  ])("rejects %s with WorkerError BAD_REPLY", (_name, value) => {
    expect(() => replyOf(value as Reply)).toThrow(WorkerError);
    expect(() => replyOf(value as Reply)).toThrow(expect.objectContaining({ code: "BAD_REPLY" }));
  });
});
