/**
 * What one request or reply frame carries, split the way RoadRunner splits it
 * (docs/wire.md#payload-context-and-body).
 */

/** A payload received from the server. */
export interface Payload {
  /** The context (PHP calls it the header): for TCP, the request context encoded per `flags`. */
  context: Buffer;
  /** The body: for TCP, the bytes the client sent (delimiter included), empty for CONNECTED and CLOSE. */
  body: Buffer;
  /** The frame's FLAGS byte; its codec bit says how `context` is encoded. */
  flags: number;
}

/** A payload to send to the server. For TCP replies the context is the verb. */
export interface PayloadInit {
  context: Uint8Array;
  body: Uint8Array;
  /** FLAGS byte of the reply; 0 (the default) is what PHP sends and what RoadRunner expects. */
  flags?: number;
}
