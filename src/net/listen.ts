/**
 * Listening, once for every socket rr-tcp opens: the TCP servers, the worker relay listener, the
 * RPC endpoint and the control API, each with the kernel's longest accept queue
 * (listen-backlog.ts). A stale unix socket file from an earlier run is removed first (a live one
 * is never taken over), a unix path in a missing folder is reported as such (libuv says EACCES),
 * and every failure is a ListenError naming the config key and the address.
 */
import { stat, unlink } from "node:fs/promises";
import type { AddressInfo, Server } from "node:net";
import { dirname } from "node:path";
import { errorCode } from "../errors.js";
import { ListenError } from "./errors.js";
import { listenBacklog } from "./listen-backlog.js";
import { formatRelayAddress, type RelayAddress } from "./relay-address.js";
import type { SocketAddress } from "./socket-address.js";
import { removeStaleSocketFile } from "./unix-socket-file.js";

/** What a listen is for, as its errors name it. */
export interface ListenTarget {
  /** The config key: `tcp.servers.main`, `server.relay`, `rpc.listen`, `control.addr`. */
  readonly key: string;
  /** The address as the user wrote it. */
  readonly shown: string;
}

/**
 * Binds `server` (a net or http server, not yet listening) to `address`. After the listen,
 * accept errors (EMFILE, ...) go to `onError` and never crash the process.
 *
 * @returns the bound address: the real port when 0 was asked, the host as bound.
 * @throws ListenError
 */
export async function listenOn(
  server: Server,
  address: SocketAddress,
  target: ListenTarget,
  onError?: (err: Error) => void,
): Promise<SocketAddress> {
  try {
    if (address.kind === "unix") await removeStaleSocketFile(address.path);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      const options =
        address.kind === "unix"
          ? { path: address.path }
          : address.host === ""
            ? { port: address.port }
            : { host: address.host, port: address.port };
      // Exclusive: in a process node:cluster forked, a listen would otherwise go to the primary.
      server.listen({ ...options, exclusive: true, backlog: listenBacklog() }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    if (address.kind === "unix" && errorCode(err) === "EACCES" && !(await isDirectory(dirname(address.path)))) {
      throw new ListenError(target.key, target.shown, `ENOENT the folder ${dirname(address.path)} does not exist`, {
        cause: err,
      });
    }
    throw ListenError.of(target.key, target.shown, err);
  }
  server.on("error", (err) => onError?.(err));
  if (address.kind === "unix") return address;
  const bound = server.address() as AddressInfo;
  return { kind: "tcp", host: address.host === "" ? "" : bound.address, port: bound.port };
}

/**
 * Binds `server` to a relay-syntax address (`server.relay`, `rpc.listen`): `pipes` is refused,
 * and the address returned keeps the host as written (workers are given it in RR_RELAY, RR_RPC).
 *
 * @returns the bound address in RoadRunner syntax (the real port when 0 was asked).
 * @throws ListenError
 */
export async function listenOnRelayAddress(
  server: Server,
  address: RelayAddress,
  key: string,
  onError?: (err: Error) => void,
): Promise<string> {
  const shown = formatRelayAddress(address);
  if (address.kind === "pipes") {
    throw new ListenError(key, shown, "pipes are not a socket; only tcp and unix addresses listen");
  }
  const bound = await listenOn(server, address, { key, shown }, onError);
  return formatRelayAddress(
    address.kind === "tcp" && bound.kind === "tcp" ? { ...address, port: bound.port } : address,
  );
}

/**
 * Stops accepting at once (open connections are not waited for: `server.close()`'s callback
 * would) and removes a unix socket's file.
 */
export function stopListening(server: Server, address: SocketAddress): Promise<void> {
  if (server.listening) server.close();
  return address.kind === "unix" ? unlink(address.path).catch(() => undefined) : Promise.resolve();
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
