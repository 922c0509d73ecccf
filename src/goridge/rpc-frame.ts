/**
 * RoadRunner's RPC frames (goridge-go `pkg/rpc` codec, docs/wire.md#rpc-frames): a request
 * carries two options, the client's sequence number and the length of the method name, and its
 * payload is the method name followed by the argument in the codec its flags name. The reply
 * repeats both options and the method name, then the result, or the error text with the ERROR
 * flag added.
 */
import { RrTcpError } from "../errors.js";
import { FrameFlag } from "./frame-flags.js";
import { encodeFrame, type Frame } from "./frame.js";

/** The codec bits of a frame's flags, strongest first as goridge-go tests them. */
const CODECS: ReadonlyArray<[number, string]> = [
  [FrameFlag.CODEC_PROTO, "proto"],
  [FrameFlag.CODEC_JSON, "json"],
  [FrameFlag.CODEC_RAW, "raw"],
  [FrameFlag.CODEC_MSGPACK, "msgpack"],
  [FrameFlag.CODEC_GOB, "gob"],
];

/** One decoded RPC request. */
export interface RpcRequest {
  seq: number;
  /** "Service.Method", e.g. "tcp.Close". */
  method: string;
  /** The method name as sent, repeated in the reply byte for byte. */
  methodBytes: Buffer;
  /** The codec flag the reply must carry (goridge-go falls back to gob when none is set). */
  codec: number;
  /** The encoded argument; empty means the argument's zero value. */
  body: Buffer;
}

/** A frame that is not an RPC request; the connection it came on cannot be answered. */
export class RpcFrameError extends RrTcpError<"BAD_RPC_FRAME"> {
  constructor(message: string) {
    super("BAD_RPC_FRAME", message);
  }
}

export function parseRpcRequest(frame: Frame): RpcRequest {
  if (frame.flags & FrameFlag.CONTROL) {
    throw new RpcFrameError("a control frame is not an RPC request");
  }
  if (frame.options.length !== 2) {
    throw new RpcFrameError(
      `an RPC request has 2 options (sequence number, method name length); this frame has ${frame.options.length}`,
    );
  }
  const [seq, methodLength] = frame.options as [number, number];
  if (methodLength > frame.payload.length) {
    throw new RpcFrameError(
      `the method name is ${methodLength} bytes long but the payload has only ${frame.payload.length}`,
    );
  }
  return {
    seq,
    method: frame.payload.subarray(0, methodLength).toString("utf8"),
    methodBytes: frame.payload.subarray(0, methodLength),
    codec: CODECS.find(([bit]) => frame.flags & bit)?.[0] ?? FrameFlag.CODEC_GOB,
    body: frame.payload.subarray(methodLength),
  };
}

/** The name of a codec flag, for messages. */
export function codecName(codec: number): string {
  return CODECS.find(([bit]) => bit === codec)?.[1] ?? `0x${codec.toString(16)}`;
}

export function encodeRpcReply(request: RpcRequest, result: Buffer): Buffer {
  return encodeFrame(request.codec, replyOptions(request), Buffer.concat([request.methodBytes, result]));
}

export function encodeRpcError(request: RpcRequest, message: string): Buffer {
  return encodeFrame(
    request.codec | FrameFlag.ERROR,
    replyOptions(request),
    Buffer.concat([request.methodBytes, Buffer.from(message)]),
  );
}

function replyOptions(request: RpcRequest): number[] {
  return [request.seq, request.methodBytes.length];
}

/** The caller's side: a request frame as spiral/goridge's RPC client builds it. */
export function encodeRpcRequest(seq: number, method: string, codec: number, body: Uint8Array): Buffer {
  const methodBytes = Buffer.from(method);
  return encodeFrame(codec, [seq, methodBytes.length], Buffer.concat([methodBytes, body]));
}

/** A decoded reply: the result's bytes, or the server's error text. */
export type RpcReply = { ok: true; codec: number; body: Buffer } | { ok: false; message: string };

/**
 * Reads the reply to request `seq`.
 *
 * @throws RpcFrameError when the frame is not a reply to that request.
 */
export function parseRpcReply(frame: Frame, seq: number): RpcReply {
  if (frame.options.length !== 2) {
    throw new RpcFrameError(`an RPC reply has 2 options; this frame has ${frame.options.length}`);
  }
  const [replySeq, methodLength] = frame.options as [number, number];
  if (replySeq !== seq) throw new RpcFrameError(`the reply is to request ${replySeq}, not ${seq}`);
  if (methodLength > frame.payload.length) {
    throw new RpcFrameError(`the method name is ${methodLength} bytes but the payload has ${frame.payload.length}`);
  }
  const body = frame.payload.subarray(methodLength);
  if (frame.flags & FrameFlag.ERROR) return { ok: false, message: body.toString("utf8") };
  return { ok: true, codec: frame.flags & ~FrameFlag.ERROR, body };
}
