/**
 * A listening socket for one named server: TCP (IPv4, IPv6, every interface) or a unix socket.
 * Accepted sockets are half-open capable (the server decides when its side closes, after the
 * client's EOF) and start paused (nothing is read before CONNECTED is answered).
 */
import { stat, unlink } from "node:fs/promises";
import { createServer, isIP, type AddressInfo, type Server, type Socket } from "node:net";
import { dirname, resolve } from "node:path";
import { removeStaleSocketFile } from "../goridge/unix-socket-file.js";
import { formatListenAddress, type ListenAddress } from "./address.js";

/** Why a listen failed, as errors naming a listener say it: the errno code, then the message. */
export function listenFailure(err: NodeJS.ErrnoException): string {
  return `${err.code ? `${err.code} ` : ""}${err.message}`;
}

/** A listener could not be opened (address in use, no permission, bad host). */
export class ListenError extends Error {
  readonly code = "LISTEN_FAILED";
  constructor(
    /** The server's name under tcp.servers. */
    readonly server: string,
    /** The configured address. */
    readonly addr: string,
    cause: Error & { code?: string },
  ) {
    super(`tcp.servers.${server}: cannot listen on ${addr}: ${listenFailure(cause)}`, {
      cause,
    });
    this.name = "ListenError";
  }
}

/** An open listener. */
export interface Listener {
  /** The bound address (the real port when 0 was asked for), as `host:port` or `unix:///path`. */
  readonly address: string;
  /** Stops accepting; resolves once the listening socket is closed (open connections are not waited for). */
  close(): Promise<void>;
}

/**
 * Opens a listener. `baseDir` resolves relative unix socket paths.
 * @throws ListenError
 */
export async function openListener(
  server: string,
  addr: string,
  address: ListenAddress,
  onConnection: (socket: Socket) => void,
  options: { baseDir?: string; onError?: (err: Error) => void } = {},
): Promise<Listener> {
  const baseDir = options.baseDir ?? process.cwd();
  const net: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, onConnection);
  let socketPath: string | undefined;
  try {
    if (address.kind === "unix") {
      socketPath = resolve(baseDir, address.path);
      // A file left by a run that is gone is removed; a live server's socket is not taken over.
      await removeStaleSocketFile(socketPath);
      await listenOn(net, { path: socketPath });
    } else {
      await listenOn(net, address.host === "" ? { port: address.port } : { host: address.host, port: address.port });
    }
  } catch (err) {
    const failure = err as NodeJS.ErrnoException;
    // libuv reports a unix socket path in a missing folder as EACCES, which misleads.
    if (socketPath !== undefined && failure.code === "EACCES" && !(await isDirectory(dirname(socketPath)))) {
      throw new ListenError(
        server,
        addr,
        Object.assign(new Error(`the folder ${dirname(socketPath)} does not exist`), { code: "ENOENT" }),
      );
    }
    throw new ListenError(server, addr, failure);
  }
  // After listen: accept errors (EMFILE...) must not crash the process.
  net.on("error", (err) => options.onError?.(err));
  const bound = net.address();
  const shown =
    socketPath !== undefined
      ? formatListenAddress({ kind: "unix", path: socketPath })
      : formatListenAddress({
          kind: "tcp",
          host: address.kind === "tcp" && address.host !== "" ? (bound as AddressInfo).address : "",
          port: (bound as AddressInfo).port,
        });
  let closing: Promise<void> | undefined;
  return {
    address: shown,
    close() {
      // server.close() stops accepting at once; its callback would wait for every connection.
      if (net.listening) net.close();
      closing ??= socketPath === undefined ? Promise.resolve() : unlink(socketPath).catch(() => undefined);
      return closing;
    },
  };
}

function listenOn(net: Server, options: { host?: string; port?: number; path?: string }): Promise<void> {
  return new Promise((done, fail) => {
    net.once("error", fail);
    net.listen({ ...options, exclusive: true }, () => {
      net.off("error", fail);
      done();
    });
  });
}

/** A peer address as Go's `RemoteAddr().String()` prints it: `ip:port`, `[ipv6]:port`, IPv4-mapped unmapped. */
export function remoteAddressOf(socket: Socket): string {
  let host = socket.remoteAddress;
  if (host === undefined) return "";
  if (host.startsWith("::ffff:") && isIP(host.slice(7)) === 4) host = host.slice(7);
  return `${isIP(host) === 6 ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
