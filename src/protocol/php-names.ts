/**
 * The names spiral/roadrunner-tcp (PHP) gives the generated enums, so code ported from PHP reads
 * the same: `TcpResponse.Respond`, `TcpEvent.Connected`. Each alias is the generated value itself.
 */
import { TcpEvent as GeneratedTcpEvent, TcpResponse as GeneratedTcpResponse } from "../../gen/ts/rr/tcp/v1/tcp.js";

export const TcpEvent = Object.freeze({
  ...GeneratedTcpEvent,
  Connected: GeneratedTcpEvent.CONNECTED,
  Data: GeneratedTcpEvent.DATA,
  Close: GeneratedTcpEvent.CLOSE,
  Unknown: GeneratedTcpEvent.UNSPECIFIED,
} as const);
export type TcpEvent = GeneratedTcpEvent;

export const TcpResponse = Object.freeze({
  ...GeneratedTcpResponse,
  Respond: GeneratedTcpResponse.WRITE,
  RespondClose: GeneratedTcpResponse.WRITECLOSE,
  Read: GeneratedTcpResponse.CONTINUE,
  Close: GeneratedTcpResponse.CLOSE,
} as const);
export type TcpResponse = GeneratedTcpResponse;
