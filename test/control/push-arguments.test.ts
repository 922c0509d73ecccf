/**
 * The push methods' arguments as Go's encoding/json (and PHP's json_encode) writes the schema
 * messages, and the errors that name the field when they are not.
 */
import { describe, expect, it } from "vitest";
import { broadcastArgument, listArgument, writeArgument } from "../../src/control/push-arguments.js";

describe("push arguments", () => {
  it("reads WriteConnectionRequest: uuid lower-cased, data standard padded base64, zero values left out", () => {
    expect(writeArgument("tcp.Write", { uuid: "6F1C4E1A-2B3D-4C5E-8F90-A1B2C3D4E5F6", data: "aGk=" })).toEqual({
      uuid: "6f1c4e1a-2b3d-4c5e-8f90-a1b2c3d4e5f6",
      data: Buffer.from("hi"),
    });
    // Go's omitempty leaves out empty bytes, and a nil []byte marshals as null.
    expect(writeArgument("tcp.WriteClose", { uuid: "u" }).data).toEqual(Buffer.alloc(0));
    expect(writeArgument("tcp.WriteClose", { uuid: "u", data: null }).data).toEqual(Buffer.alloc(0));
    expect(writeArgument("tcp.Write", { uuid: "u", data: "+/+/" }).data).toEqual(Buffer.from([0xfb, 0xff, 0xbf]));
  });

  it("names the method and the field of a bad argument", () => {
    expect(() => writeArgument("tcp.Write", { uuid: "u", data: "aGk" })).toThrow(
      'tcp.Write: "data" must be the bytes in standard base64 with padding',
    );
    // URL-safe base64 is another alphabet than Go's json uses.
    expect(() => writeArgument("tcp.Write", { uuid: "u", data: "-_-_" })).toThrow(/"data" must be/);
    expect(() => writeArgument("tcp.Write", { uuid: 7, data: "" })).toThrow(
      'tcp.Write: "uuid" must be a string, got a number',
    );
    expect(() => writeArgument("tcp.WriteClose", { data: "" })).toThrow('tcp.WriteClose: "uuid" is missing or empty');
    expect(() => writeArgument("tcp.Write", ["u", "aGk="])).toThrow(
      "tcp.Write takes rr.tcp.v1.WriteConnectionRequest as a JSON object",
    );
    expect(() => writeArgument("tcp.Write", { uuid: "u", data: "", close: true })).toThrow(
      'tcp.Write: unknown field "close" in rr.tcp.v1.WriteConnectionRequest (its fields: "uuid", "data")',
    );
    expect(() => broadcastArgument("tcp.Broadcast", { data: "aGk=" })).toThrow(
      'tcp.Broadcast: "server" is missing or empty',
    );
    expect(() => broadcastArgument("tcp.Broadcast", "main")).toThrow(/BroadcastRequest as a JSON object/);
  });

  it("reads tcp.List's argument: the message, a bare name, or nothing for every server", () => {
    expect(listArgument("tcp.List", { server: "main" })).toBe("main");
    expect(listArgument("tcp.List", {})).toBe("");
    expect(listArgument("tcp.List", "other")).toBe("other");
    expect(listArgument("tcp.List", "")).toBe("");
    expect(listArgument("tcp.List", null)).toBe("");
    expect(() => listArgument("tcp.List", { server: 1 })).toThrow('tcp.List: "server" must be a string, got a number');
    expect(() => listArgument("tcp.List", true)).toThrow(/ListConnectionsRequest as a JSON object/);
  });
});
