/**
 * The errors of addresses and listening sockets, shared by the TCP servers, the worker relays,
 * the RPC endpoint and the control API: each names the config key and the address.
 */
import { errorCode, errorMessage, RrTcpError } from "../errors.js";

/** Which syntax an address was parsed in: a server's listen address, or a relay's (`server.relay`, `rpc.listen`). */
export type AddressSyntax = "listen" | "relay";

/** An address that cannot be parsed; the message says what is allowed. */
export class AddressError extends RrTcpError<"BAD_ADDRESS"> {
  declare readonly address: string;

  constructor(
    address: string,
    readonly syntax: AddressSyntax,
    message: string,
  ) {
    super("BAD_ADDRESS", message, { address });
  }
}

/** Why a listen failed, as a ListenError says it: the errno (or rr-tcp) code, then the message. */
export function listenFailure(err: unknown): string {
  const code = errorCode(err);
  return `${code ? `${code} ` : ""}${errorMessage(err)}`;
}

/**
 * A listening socket could not be opened (address in use, no permission, a missing folder, a
 * relay address that is not a socket). `key` is the config key that names it: `tcp.servers.main`,
 * `server.relay`, `rpc.listen`, `control.addr`.
 */
export class ListenError extends RrTcpError<"LISTEN_FAILED"> {
  declare readonly key: string;
  declare readonly address: string;
  /** Why, without the key and the address. */
  readonly reason: string;

  constructor(key: string, address: string, reason: string, options?: { cause?: unknown }) {
    super("LISTEN_FAILED", `${key}: cannot listen on ${address}: ${reason}`, { ...options, key, address });
    this.reason = reason;
  }

  /** The ListenError for `err` thrown while listening on `address` for `key`. */
  static of(key: string, address: string, err: unknown): ListenError {
    return err instanceof ListenError ? err : new ListenError(key, address, listenFailure(err), { cause: err });
  }
}
