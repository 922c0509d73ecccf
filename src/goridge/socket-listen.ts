/**
 * Opens a listening socket on a relay-syntax address (`tcp://host:port`, `unix://path`), the
 * way RoadRunner listens for worker relays and for RPC: a stale unix socket file from an earlier
 * run is removed first, and every failure names the address.
 */
import { createServer, type Server } from "node:net";
import { GoridgeError } from "./errors.js";
import { formatRelayAddress, type RelayAddress } from "./relay-address.js";
import { removeStaleSocketFile } from "./unix-socket-file.js";

/** A listening socket could not be opened. */
export class RelayListenError extends GoridgeError {
  declare readonly code: "RELAY_LISTEN";
  /** The address, in RoadRunner syntax. */
  readonly address: string;
  /** Why, without the address. */
  readonly reason: string;

  constructor(address: string, reason: string, options?: { cause?: unknown }) {
    super("RELAY_LISTEN", `cannot listen on relay ${address}: ${reason}`, options);
    this.address = address;
    this.reason = reason;
  }
}

/** A socket server listening on a relay address. */
export interface ListeningSocket {
  server: Server;
  /** The address actually listened on, in RoadRunner syntax (the real port when 0 was asked). */
  address: string;
}

/**
 * @param onError told about errors after listening (from accepting); they never throw.
 * @param opts.allowHalfOpen keep a connection writable after the peer's FIN (net's option).
 * @throws RelayListenError for `pipes`, a unix path held by another file or a live listener,
 *   or an address that cannot be bound.
 */
export async function listenOnRelayAddress(
  address: RelayAddress,
  onError?: (err: Error) => void,
  opts?: { allowHalfOpen?: boolean },
): Promise<ListeningSocket> {
  const wanted = formatRelayAddress(address);
  if (address.kind === "pipes") {
    throw new RelayListenError(wanted, "pipes are not a socket; only tcp and unix addresses listen");
  }
  if (address.kind === "unix") {
    try {
      await removeStaleSocketFile(address.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RelayListenError(wanted, `${code ? `${code}: ` : ""}${(err as Error).message}`, { cause: err });
    }
  }
  const server = createServer({ noDelay: true, allowHalfOpen: opts?.allowHalfOpen ?? false });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void =>
      reject(new RelayListenError(wanted, `${err.code ?? "error"}: ${err.message}`, { cause: err }));
    server.once("error", fail);
    const ready = (): void => {
      server.off("error", fail);
      resolve();
    };
    if (address.kind === "tcp") server.listen(address.port, address.host, ready);
    else server.listen(address.path, ready);
  });
  server.on("error", (err) => onError?.(err));
  const bound = server.address();
  return {
    server,
    address:
      address.kind === "tcp" && bound !== null && typeof bound === "object"
        ? formatRelayAddress({ kind: "tcp", host: address.host, port: bound.port })
        : wanted,
  };
}
