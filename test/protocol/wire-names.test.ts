import { describe, expect, it } from "vitest";
import { TcpEvent, TcpResponse } from "../../gen/ts/rr/tcp/v1/tcp.js";
import {
  eventFromName,
  eventName,
  TcpResponse as PhpTcpResponse,
  verbBytes,
  verbFromBytes,
  WIRE_EVENT_NAMES,
  WIRE_VERB_NAMES,
} from "../../src/protocol/index.js";

describe("wire names from the schema", () => {
  it("are RoadRunner's strings", () => {
    expect(WIRE_EVENT_NAMES).toEqual(["CONNECTED", "DATA", "CLOSE"]);
    expect(WIRE_VERB_NAMES).toEqual(["WRITE", "WRITECLOSE", "CONTINUE", "CLOSE"]);
    expect(eventName(TcpEvent.UNSPECIFIED)).toBe("UNKNOWN");
    expect(eventFromName("DATA")).toBe(TcpEvent.DATA);
    expect(eventFromName("UNSPECIFIED")).toBe(TcpEvent.UNSPECIFIED);
  });

  it("compare verbs byte for byte, anything else is UNSPECIFIED", () => {
    for (const verb of [TcpResponse.WRITE, TcpResponse.WRITECLOSE, TcpResponse.CONTINUE, TcpResponse.CLOSE]) {
      expect(verbFromBytes(verbBytes(verb))).toBe(verb);
    }
    for (const bad of ["write", "WRITE ", "", "FOO", "UNSPECIFIED", "CLOSED", "WRITECLOSEX"]) {
      expect(verbFromBytes(Buffer.from(bad))).toBe(TcpResponse.UNSPECIFIED);
    }
  });

  it("offer the PHP package's names as aliases of the generated values", () => {
    expect(PhpTcpResponse.Respond).toBe(TcpResponse.WRITE);
    expect(PhpTcpResponse.RespondClose).toBe(TcpResponse.WRITECLOSE);
    expect(PhpTcpResponse.Read).toBe(TcpResponse.CONTINUE);
    expect(PhpTcpResponse.Close).toBe(TcpResponse.CLOSE);
  });
});
