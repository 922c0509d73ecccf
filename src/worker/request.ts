/**
 * One TCP event as a worker sees it: PHP's `Spiral\RoadRunner\Tcp\Request`, decoded from a payload.
 */
import type { RequestContext } from "../../gen/ts/rr/tcp/v1/tcp.js";
import type { TcpEvent } from "../protocol/index.js";
import { decodeContext } from "./context-cache.js";
import type { Payload } from "./payload.js";

/** A TCP event: CONNECTED, DATA or CLOSE of one client connection. */
export class Request {
  /**
   * The client's bytes (DATA, delimiter included); empty for CONNECTED and CLOSE. A view into the
   * block the request was read into, which neighbouring requests share: it stays valid, but to
   * keep many bodies for long, keep copies (`Buffer.from(request.body)`).
   */
  readonly body: Buffer;
  // Decoded contexts are shared between the events that carry the same bytes, and frozen; the
  // `context` a handler gets is its own copy, made when it asks for it.
  #context: Readonly<RequestContext>;
  #own = false;

  constructor(context: Readonly<RequestContext>, body: Buffer) {
    this.#context = context;
    this.#own = !Object.isFrozen(context);
    this.body = body;
  }

  /** The decoded context, as the generated schema type. */
  get context(): RequestContext {
    if (!this.#own) {
      this.#context = { ...this.#context };
      this.#own = true;
    }
    return this.#context as RequestContext;
  }

  /**
   * Decodes a payload's context with the codec its frame flags call for: protobuf when
   * CODEC_PROTO (0x80) is set, else RoadRunner's JSON. Each distinct context is parsed once:
   * the next event with the same context bytes reuses it (context-cache.ts).
   *
   * @throws ContextDecodeError (code CONTEXT_DECODE) for a context that does not decode.
   */
  static fromPayload(payload: Payload): Request {
    return new Request(decodeContext(payload.flags, payload.context), payload.body);
  }

  /** The event; `TcpEvent.Unknown` (UNSPECIFIED) for a name this schema does not know, as PHP. */
  get event(): TcpEvent {
    return this.#context.event;
  }

  /** The client's address, `ip:port` (`[::1]:port` for IPv6). PHP: `getRemoteAddress()`. */
  get remoteAddress(): string {
    return this.#context.remote_addr;
  }

  /** The connection's uuid, the same for all its events. PHP: `getConnectionUuid()`. */
  get connectionUuid(): string {
    return this.#context.uuid;
  }

  /** The name of the server (key under `tcp.servers`) that accepted the connection. PHP: `getServer()`. */
  get server(): string {
    return this.#context.server;
  }
}
