/**
 * A listening socket for one named server: TCP (IPv4, IPv6, every interface) or a unix socket.
 * Accepted sockets are half-open capable (the server decides when its side closes, after the
 * client's EOF) and start paused (nothing is read before CONNECTED is answered).
 */
import { createServer, type Socket } from "node:net";
import { resolve } from "node:path";
import { formatListenAddress, listenOn, stopListening, type ListenAddress } from "../net/index.js";

/** An open listener. */
export interface Listener {
  /** The bound address (the real port when 0 was asked for), as `host:port` or `unix:///path`. */
  readonly address: string;
  /** Stops accepting; resolves once the listening socket is closed (open connections are not waited for). */
  close(): Promise<void>;
}

/**
 * Opens the listener of `tcp.servers.<server>`. `baseDir` resolves relative unix socket paths.
 * @throws ListenError
 */
export async function openListener(
  server: string,
  addr: string,
  address: ListenAddress,
  onConnection: (socket: Socket) => void,
  options: { baseDir?: string; onError?: (err: Error) => void } = {},
): Promise<Listener> {
  const net = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, onConnection);
  const wanted: ListenAddress =
    address.kind === "unix" ? { kind: "unix", path: resolve(options.baseDir ?? process.cwd(), address.path) } : address;
  const bound = await listenOn(net, wanted, { key: `tcp.servers.${server}`, shown: addr }, options.onError);
  let closing: Promise<void> | undefined;
  return {
    address: formatListenAddress(bound),
    close() {
      closing ??= stopListening(net, bound);
      return closing;
    },
  };
}
