/**
 * Worker side: open the relay named by `RR_RELAY` (docs/wire.md#relays). After connecting, the worker
 * waits for the server's pid request and answers it (see `encodePidReply`).
 */
import { connect, type Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import { RelayConnectError } from "./errors.js";
import { formatRelayAddress, parseRelayAddress, type RelayAddress } from "../net/relay-address.js";
import { StreamRelay, type StreamRelayOptions } from "./stream-relay.js";

/**
 * Opens a relay to the server.
 *
 * @param address `pipes`, `tcp://host:port` or `unix://path`, as a string or parsed.
 * @param io streams for `pipes`; default `process.stdin` (frames in) and `process.stdout`
 *   (frames out).
 * @param opts frame size limit; the relay name defaults to the address.
 * @throws RelayAddressError for a bad address, RelayConnectError if the socket cannot connect.
 */
export async function connectRelay(
  address: string | RelayAddress,
  io?: { input?: Readable; output?: Writable },
  opts?: StreamRelayOptions,
): Promise<StreamRelay> {
  const parsed = typeof address === "string" ? parseRelayAddress(address) : address;
  const name = opts?.name ?? formatRelayAddress(parsed);
  const relayOpts: StreamRelayOptions = { ...opts, name };
  if (parsed.kind === "pipes") {
    return new StreamRelay(io?.input ?? process.stdin, io?.output ?? process.stdout, relayOpts);
  }
  const socket = await connectSocket(parsed, name);
  return new StreamRelay(socket, socket, relayOpts);
}

/**
 * Connects a socket to a tcp or unix relay address.
 *
 * @param name used in the error.
 * @throws RelayConnectError if the socket cannot connect.
 */
export function connectSocket(address: Exclude<RelayAddress, { kind: "pipes" }>, name: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s =
      address.kind === "tcp"
        ? connect({ host: address.host, port: address.port, noDelay: true })
        : connect({ path: address.path });
    const fail = (err: Error): void => reject(new RelayConnectError(name, { cause: err }));
    s.once("error", fail);
    s.once("connect", () => {
      s.off("error", fail);
      resolve(s);
    });
  });
}
