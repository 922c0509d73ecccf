/**
 * The file of a unix socket to listen on. A file left by a process that is gone would make
 * `listen` fail with EADDRINUSE, so it is removed first; but only when it is a socket and nothing
 * accepts connections on it any more: a live one belongs to another running server.
 */
import { lstat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { errorCode, RrTcpError } from "../errors.js";

/** Why a socket file cannot be listened on: a live socket (EADDRINUSE) or not a socket (ENOTSOCK). */
export class SocketFileError extends RrTcpError<"EADDRINUSE" | "ENOTSOCK"> {}

/**
 * Removes the socket file at `path` if it is stale; does nothing if there is none.
 *
 * @throws SocketFileError ENOTSOCK if the file is not a socket (it is never removed), EADDRINUSE
 *   if a process accepts connections on it; an fs error if it cannot be examined or removed.
 */
export async function removeStaleSocketFile(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if (errorCode(err) === "ENOENT") return;
    throw err;
  }
  if (!isSocket) {
    throw new SocketFileError("ENOTSOCK", `${path} exists and is not a socket; refusing to remove it`, {
      address: path,
    });
  }
  if (await isListening(path)) {
    throw new SocketFileError("EADDRINUSE", `${path} is in use: another process accepts connections on it`, {
      address: path,
    });
  }
  await unlink(path).catch((err: unknown) => {
    if (errorCode(err) !== "ENOENT") throw err;
  });
}

/** True unless a connection to `path` is refused (nobody listens) or the file went away. */
function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    // Anything but "refused" or "gone" (EAGAIN: a full backlog, say) counts as in use: removing
    // a live server's socket would silently cut it off.
    probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code !== "ECONNREFUSED" && err.code !== "ENOENT"));
  });
}
