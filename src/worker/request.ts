/**
 * One TCP event as a worker sees it: PHP's `Spiral\RoadRunner\Tcp\Request`, decoded from a payload.
 */
import type { RequestContext } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { contextCodecForFlags, type TcpEvent } from "../protocol/index.js";
import type { Payload } from "./payload.js";

/** A TCP event: CONNECTED, DATA or CLOSE of one client connection. */
export class Request {
  /** The decoded context, as the generated schema type. */
  readonly context: RequestContext;
  /** The client's bytes (DATA, delimiter included); empty for CONNECTED and CLOSE. */
  readonly body: Buffer;

  constructor(context: RequestContext, body: Buffer) {
    this.context = context;
    this.body = body;
  }

  /**
   * Decodes a payload's context with the codec its frame flags call for: protobuf when
   * CODEC_PROTO (0x80) is set, else RoadRunner's JSON.
   *
   * @throws ContextDecodeError (code CONTEXT_DECODE) for a context that does not decode.
   */
  static fromPayload(payload: Payload): Request {
    return new Request(contextCodecForFlags(payload.flags).decode(payload.context), payload.body);
  }

  /** The event; `TcpEvent.Unknown` (UNSPECIFIED) for a name this schema does not know, as PHP. */
  get event(): TcpEvent {
    return this.context.event;
  }

  /** The client's address, `ip:port` (`[::1]:port` for IPv6). PHP: `getRemoteAddress()`. */
  get remoteAddress(): string {
    return this.context.remote_addr;
  }

  /** The connection's uuid, the same for all its events. PHP: `getConnectionUuid()`. */
  get connectionUuid(): string {
    return this.context.uuid;
  }

  /** The name of the server (key under `tcp.servers`) that accepted the connection. PHP: `getServer()`. */
  get server(): string {
    return this.context.server;
  }
}
