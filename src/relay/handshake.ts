/**
 * The pid handshake (docs/wire.md#pid-handshake): the server sends CONTROL|JSON `{"pid":<own pid>}`,
 * the worker answers CONTROL `{"pid":<worker pid>}`. On socket relays the reported pid is what ties a
 * connection to the process that was spawned.
 */
import { FrameError } from "../goridge/errors.js";
import { HandshakeError } from "./errors.js";
import { FrameFlag } from "../goridge/frame-flags.js";
import type { Frame } from "../goridge/frame.js";
import { encodeControlFrame, parseControl } from "../goridge/control-frame.js";
import type { Relay } from "./stream-relay.js";

/**
 * Server side: asks the worker on `relay` for its pid and returns it. On failure the relay is
 * closed, since a worker that fails the handshake is never used (RoadRunner kills it).
 *
 * @param ownPid the pid sent to the worker (RoadRunner sends its own).
 * @param timeoutMs how long to wait for the reply.
 * @throws HandshakeError if the reply does not come in time, lacks the CONTROL flag, is not
 *   `{"pid":N}` JSON, or N is not greater than 0; `cause` holds the underlying error.
 */
export async function requestPid(relay: Relay, ownPid: number, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  try {
    relay.send(encodeControlFrame({ pid: ownPid }));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HandshakeError(`worker did not answer the pid request within ${timeoutMs} ms`, {
              timeoutMs,
            }),
          ),
        timeoutMs,
      );
    });
    return readPidReply(await Promise.race([relay.receive(), timeout]));
  } catch (err) {
    relay.close();
    if (err instanceof HandshakeError) throw err;
    throw new HandshakeError(`pid handshake failed: ${(err as Error).message}`, {}, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Worker side: the reply to a pid request, flags CONTROL only, as the PHP worker sends it.
 *
 * @throws HandshakeError unless `pid` is a positive integer.
 */
export function encodePidReply(pid: number): Buffer {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new HandshakeError(`pid should be greater than 0, got ${pid}`, { pid });
  }
  return encodeControlFrame({ pid }, FrameFlag.CONTROL);
}

function readPidReply(frame: Frame): number {
  if ((frame.flags & FrameFlag.CONTROL) === 0) {
    const flags = `0x${frame.flags.toString(16).padStart(2, "0")}`;
    const error =
      (frame.flags & FrameFlag.ERROR) !== 0
        ? `; it is an error frame: ${JSON.stringify(frame.payload.toString("utf8", 0, 200))}`
        : "";
    throw new HandshakeError(`unexpected response, header is missing, no CONTROL flag (flags ${flags})${error}`);
  }
  let pid: number | undefined;
  try {
    pid = parseControl(frame).pid;
  } catch (err) {
    const reason = err instanceof FrameError ? err.message : String(err);
    throw new HandshakeError(`bad pid reply: ${reason}`, {}, { cause: err });
  }
  if (pid === undefined || pid <= 0) {
    throw new HandshakeError(
      `pid should be greater than 0, got ${JSON.stringify(frame.payload.toString("utf8", 0, 200))}`,
      pid === undefined ? {} : { pid },
    );
  }
  return pid;
}
