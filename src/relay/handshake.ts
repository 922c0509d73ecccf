/**
 * The pid handshake (docs/wire.md#pid-handshake): the server sends CONTROL|JSON `{"pid":<own pid>}`,
 * the worker answers CONTROL `{"pid":<worker pid>}`. On socket relays the reported pid is what ties a
 * connection to the process that was spawned. rr-tcp's workers add what they can do beyond
 * RoadRunner's protocol (rr.goridge.v1.ControlMessage): the context codecs they read and whether
 * they echo event ids. RoadRunner ignores those keys, and a worker that sends none (PHP's) is
 * treated as RoadRunner's: JSON contexts only.
 */
import { errorMessage } from "../errors.js";
import { FrameError } from "../goridge/errors.js";
import { FrameFlag } from "../goridge/frame-flags.js";
import type { Frame } from "../goridge/frame.js";
import { encodeControlFrame, parseControl, type ControlMessage } from "../goridge/control-frame.js";
import { HandshakeError } from "./errors.js";
import type { Relay } from "./stream-relay.js";

/** What a worker said in its pid reply. */
export interface WorkerHello {
  readonly pid: number;
  /** Context codecs it reads besides JSON (`proto`); empty for RoadRunner's workers. */
  readonly contextCodecs: readonly string[];
  /** It echoes each request's event id in its reply. */
  readonly echoEventId: boolean;
}

/** What a worker can say about itself in its pid reply, beside its pid. */
export interface WorkerAbilities {
  readonly contextCodecs?: readonly string[];
  readonly echoEventId?: boolean;
}

/**
 * Server side: asks the worker on `relay` for its pid and returns its reply. On failure the relay
 * is closed, since a worker that fails the handshake is never used (RoadRunner kills it).
 *
 * @param ownPid the pid sent to the worker (RoadRunner sends its own).
 * @param timeoutMs how long to wait for the reply.
 * @throws HandshakeError if the reply does not come in time, lacks the CONTROL flag, is not
 *   `{"pid":N}` JSON, or N is not greater than 0; `cause` holds the underlying error.
 */
export async function requestHello(relay: Relay, ownPid: number, timeoutMs: number): Promise<WorkerHello> {
  let timer: NodeJS.Timeout | undefined;
  try {
    relay.send(encodeControlFrame({ pid: ownPid }));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HandshakeError(`worker did not answer the pid request within ${timeoutMs} ms`, { timeoutMs })),
        timeoutMs,
      );
    });
    return readPidReply(await Promise.race([relay.receive(), timeout]));
  } catch (err) {
    relay.close();
    if (err instanceof HandshakeError) throw err;
    throw new HandshakeError(`pid handshake failed: ${errorMessage(err)}`, {}, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** {@link requestHello}, for its pid alone. */
export async function requestPid(relay: Relay, ownPid: number, timeoutMs: number): Promise<number> {
  return (await requestHello(relay, ownPid, timeoutMs)).pid;
}

/**
 * Worker side: the reply to a pid request, flags CONTROL only, as the PHP worker sends it; with
 * `abilities`, the keys that say what this worker can do beyond RoadRunner's protocol.
 *
 * @throws HandshakeError unless `pid` is a positive integer.
 */
export function encodePidReply(pid: number, abilities: WorkerAbilities = {}): Buffer {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new HandshakeError(`pid should be greater than 0, got ${pid}`, { pid });
  }
  const message: ControlMessage = { pid };
  if (abilities.contextCodecs && abilities.contextCodecs.length > 0)
    message.context_codecs = [...abilities.contextCodecs];
  if (abilities.echoEventId) message.echo_event_id = true;
  return encodeControlFrame(message, FrameFlag.CONTROL);
}

function readPidReply(frame: Frame): WorkerHello {
  if ((frame.flags & FrameFlag.CONTROL) === 0) {
    const flags = `0x${frame.flags.toString(16).padStart(2, "0")}`;
    const error =
      (frame.flags & FrameFlag.ERROR) !== 0
        ? `; it is an error frame: ${JSON.stringify(frame.payload.toString("utf8", 0, 200))}`
        : "";
    throw new HandshakeError(`unexpected response, header is missing, no CONTROL flag (flags ${flags})${error}`);
  }
  let message: ControlMessage;
  try {
    message = parseControl(frame);
  } catch (err) {
    const reason = err instanceof FrameError ? err.message : String(err);
    throw new HandshakeError(`bad pid reply: ${reason}`, {}, { cause: err });
  }
  const pid = message.pid;
  if (pid === undefined || pid <= 0) {
    throw new HandshakeError(
      `pid should be greater than 0, got ${JSON.stringify(frame.payload.toString("utf8", 0, 200))}`,
      pid === undefined ? {} : { pid },
    );
  }
  return { pid, contextCodecs: message.context_codecs ?? [], echoEventId: message.echo_event_id ?? false };
}
