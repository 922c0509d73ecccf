/**
 * The frame side of a worker: its relay, from the pid handshake to the last frame. Sends one
 * event (one payload frame, a large body written after its header without a copy) or the stop
 * command, reads what the worker sends, and says what a reply means ({@link readReply}). Knows
 * nothing of processes (that is {@link WorkerChild}) nor of what the worker is doing
 * ({@link WorkerProcess}).
 */
import type { ChildProcess } from "node:child_process";
import {
  Byte10,
  encodeControlFrame,
  encodePayloadFrame,
  encodePayloadHead,
  eventIdOf,
  FrameFlag,
  isStopRequest,
  nextEventId,
  splitPayload,
  type Frame,
} from "../goridge/index.js";
import type { Relay } from "../relay/index.js";
import { errorMessage } from "../errors.js";
import { jsonContextCodec, protoContextCodec } from "../protocol/index.js";
import { PoolError } from "./errors.js";
import type { ExecReply, ExecRequest } from "./exec.js";
import { quote } from "./start-failure.js";
import type { WorkerRelaySource } from "./worker-relay.js";

/** Who hears what arrives on the relay. */
export interface RelaySessionListener {
  /** A frame from the worker. */
  onFrame(frame: Frame): void;
  /** The relay can carry no more frames: EOF, a bad frame (FrameError), or closed here. Once. */
  onClosed(err: Error): void;
}

/** What a worker's reply to an event means. */
export type ReplyReading =
  /** A reply for the client. */
  | { readonly kind: "reply"; readonly reply: ExecReply }
  /** An ERROR frame: the event failed, the worker is fine. */
  | { readonly kind: "error"; readonly error: PoolError }
  /** `{"stop":true}`: the worker asks to be replaced; the event goes to another one. */
  | { readonly kind: "stop" }
  /** Not a valid reply: the worker broke the protocol. */
  | { readonly kind: "bad"; readonly reason: string; readonly cause?: unknown };

// A body at least this large is written after its header instead of being copied into one frame.
const SPLIT_BODY_BYTES = 64 * 1024;
const STOP_FRAME = encodeControlFrame({ stop: true });

// A connection's contexts are encoded once and reused for its every event, so their JSON forms
// are made once too.
const jsonForms = new WeakMap<Buffer, Buffer>();

/** RoadRunner's JSON form of a protobuf request context, for a worker that reads only JSON. */
function asJsonContext(proto: Buffer): Buffer {
  let json = jsonForms.get(proto);
  if (json === undefined) {
    json = jsonContextCodec.encode(protoContextCodec.decode(proto));
    jsonForms.set(proto, json);
  }
  return json;
}

/** The relay of one worker, once its pid handshake succeeded. */
export class RelaySession {
  readonly #relay: Relay;
  #closed = false;
  #jsonFallbacks = 0;
  #eventId = 0;

  /**
   * Connects to the worker `child` (OS pid `pid`) through `source` and does the pid handshake.
   *
   * @param signal aborted to give up (the process exited, the start deadline passed); rejects
   *   with the signal's reason then.
   * @throws HandshakeError, RelayClosedError, or the abort reason.
   */
  static async open(
    source: WorkerRelaySource,
    child: ChildProcess,
    pid: number,
    signal: AbortSignal,
  ): Promise<RelaySession> {
    const { relay, hello } = await source.connect(child, pid, signal);
    return new RelaySession(relay, hello.contextCodecs.includes("proto"), hello.echoEventId);
  }

  /**
   * @param readsProto the worker said in its pid reply that it reads protobuf contexts; a worker
   *   that did not (every RoadRunner worker) is sent RoadRunner's JSON context instead.
   * @param echoesEventId the worker said in its pid reply that it echoes event ids: each event
   *   it is sent carries one, and its reply must carry the same.
   */
  constructor(
    relay: Relay,
    readonly readsProto: boolean = false,
    readonly echoesEventId: boolean = false,
  ) {
    this.#relay = relay;
  }

  /**
   * The id of the last event sent, which its reply must echo; undefined for a worker that does
   * not echo ids.
   */
  get eventId(): number | undefined {
    return this.echoesEventId ? this.#eventId : undefined;
  }

  /** Events whose protobuf context this worker was sent as JSON, because it reads only JSON. */
  get jsonFallbacks(): number {
    return this.#jsonFallbacks;
  }

  /** True once the relay can carry no more frames. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True when the worker sent a frame that was not read yet (more than its last reply). */
  get hasUnread(): boolean {
    return this.#relay.hasUnread;
  }

  /** See {@link Relay.readWaiting}: false when the worker's relay holds nothing unread. */
  readWaiting(): boolean {
    return this.#relay.readWaiting?.() ?? true;
  }

  /** Reads frames until the relay closes, telling `listener` about each. */
  start(listener: RelaySessionListener): void {
    void this.#readLoop(listener);
  }

  /**
   * Sends one event. Header and context go in one write (a PHP worker reads the header in one
   * read), then a large body itself: no copy of it.
   *
   * @throws RelayClosedError if the relay is closed; FrameError if the request cannot be framed.
   */
  send(request: ExecRequest): void {
    const { body } = request;
    let { context, flags } = request;
    if (flags & FrameFlag.CODEC_PROTO && !this.readsProto) {
      context = asJsonContext(context);
      flags &= ~FrameFlag.CODEC_PROTO;
      this.#jsonFallbacks++;
    }
    let eventId: number | undefined;
    if (this.echoesEventId) eventId = this.#eventId = nextEventId(this.#eventId);
    if (body.length < SPLIT_BODY_BYTES) {
      this.#relay.send(encodePayloadFrame(context, body, flags, 0, eventId));
      return;
    }
    this.#relay.send(encodePayloadHead(context, body.length, flags, 0, eventId));
    this.#relay.send(body);
  }

  /**
   * The stop command (`{"stop":true}` control frame).
   *
   * @throws RelayClosedError if the relay is closed.
   */
  sendStop(): void {
    this.#relay.send(STOP_FRAME);
  }

  /** Closes the relay; the read loop then ends with `onClosed`. */
  close(): void {
    this.#relay.close();
  }

  async #readLoop(listener: RelaySessionListener): Promise<void> {
    for (;;) {
      let frame: Frame;
      try {
        frame = await this.#relay.receive();
      } catch (err) {
        this.#closed = true;
        listener.onClosed(err instanceof Error ? err : new Error(errorMessage(err)));
        return;
      }
      listener.onFrame(frame);
    }
  }
}

/**
 * What the frame `frame`, the reply of worker `pid` to an event, means.
 *
 * @param eventId the id the event was sent with, for a worker that echoes ids: a reply with
 *   another id, or none, answers some other event (a second reply to an earlier one) and is bad.
 */
export function readReply(frame: Frame, pid: number, eventId?: number): ReplyReading {
  if (eventId !== undefined) {
    const echoed = eventIdOf(frame);
    if (echoed !== eventId || frame.options.length !== 2) {
      const got = echoed === undefined ? "no event id" : `event id ${echoed} in ${frame.options.length} options`;
      return {
        kind: "bad",
        reason:
          `its reply carries ${got}, not the id ${eventId} of the event it was sent: ` +
          `it answers another event (a second reply to an earlier one?)`,
      };
    }
  }
  if ((frame.flags & FrameFlag.ERROR) !== 0) {
    const text = frame.payload.toString("utf8");
    const error = new PoolError("WORKER_ERROR", `worker pid ${pid} answered with an error: ${quote(text)}`, {
      pid,
      workerMessage: text,
    });
    return { kind: "error", error };
  }
  if ((frame.byte10 & Byte10.STREAM) !== 0) {
    return { kind: "bad", reason: "it set the STREAM bit (byte 10); streamed replies are not supported" };
  }
  let context: Buffer;
  let body: Buffer;
  try {
    ({ context, body } = splitPayload(frame, eventId !== undefined));
  } catch (err) {
    return { kind: "bad", reason: errorMessage(err), cause: err };
  }
  if (isStopRequest(context, body)) return { kind: "stop" };
  return { kind: "reply", reply: { context, body, flags: frame.flags, pid } };
}
