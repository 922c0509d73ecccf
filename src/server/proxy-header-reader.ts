/**
 * Reads the PROXY protocol header (src/net/proxy-protocol.ts) off a freshly accepted, paused
 * socket of a server with `proxy_protocol: true`, before its Connection exists: so CONNECTED
 * already carries the client's address, and a connection without a valid header never reaches a
 * worker. The bytes that came after the header are put back into the socket for the Connection.
 */
import type { Socket } from "node:net";
import {
  formatRemoteAddress,
  parseProxyHeader,
  ProxyHeaderError,
  remoteAddressOf,
  type ProxyHeader,
  type TrustedSources,
} from "../net/index.js";

/** What a server with the PROXY protocol is set to. */
export interface ProxyHeaderOptions {
  readonly trusted: TrustedSources;
  /** Every peer may send it: a unix socket's (only local processes reach it). */
  readonly trustEveryPeer: boolean;
  readonly timeoutMs: number;
}

/** A complete header, and the address the connection's context reports. */
export interface ProxiedPeer {
  readonly header: ProxyHeader;
  /** The client's address from the header; the socket's own peer for LOCAL (a health check). */
  readonly remoteAddr: string;
}

/**
 * Resolves once the header is complete; the socket is paused again then, with what followed the
 * header unread in it.
 *
 * @throws ProxyHeaderError (rejects): "untrusted" before reading anything from a peer outside
 *   the trusted blocks; "missing", "malformed", "oversized" for bad bytes; "timeout" when the
 *   header is not complete within `timeoutMs`; "malformed" when the peer ends the connection first.
 */
export function readProxyHeader(socket: Socket, options: ProxyHeaderOptions): Promise<ProxiedPeer> {
  const peer = remoteAddressOf(socket);
  if (socket.remoteAddress === undefined && !options.trustEveryPeer) {
    // Gone before it was accepted: a TCP health check (connect, close) that sent nothing.
    return Promise.reject(
      new ProxyHeaderError("missing", "the peer left before sending a PROXY header", { silent: true }),
    );
  }
  if (!options.trustEveryPeer && !options.trusted.trusts(socket.remoteAddress)) {
    return Promise.reject(
      new ProxyHeaderError(
        "untrusted",
        `PROXY header from ${peer}, which is outside proxy_trusted (${options.trusted.blocks.join(", ") || "none"})`,
        { address: peer },
      ),
    );
  }
  return new Promise<ProxiedPeer>((resolve, reject) => {
    let pending: Buffer = Buffer.alloc(0);
    const finish = (err: ProxyHeaderError | undefined, done?: ProxiedPeer): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
      socket.pause();
      if (err !== undefined) reject(err);
      else resolve(done as ProxiedPeer);
    };
    const onData = (chunk: Buffer): void => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let parsed;
      try {
        parsed = parseProxyHeader(pending);
      } catch (err) {
        finish(err instanceof ProxyHeaderError ? withPeer(err, peer) : new ProxyHeaderError("malformed", String(err)));
        return;
      }
      if (parsed.kind === "incomplete") return;
      const { header, length } = parsed;
      const source = header.command === "PROXY" ? header.source : undefined;
      const remoteAddr = source === undefined ? peer : formatRemoteAddress(source.address, source.port);
      finish(undefined, { header, remoteAddr });
      if (pending.length > length) socket.unshift(pending.subarray(length));
    };
    const onEnd = (): void => {
      finish(
        pending.length === 0
          ? new ProxyHeaderError("missing", `${peer} left before sending a PROXY header`, {
              address: peer,
              silent: true,
            })
          : new ProxyHeaderError(
              "malformed",
              `${peer} ended the connection after ${pending.length} bytes, before its PROXY header was complete`,
              { address: peer },
            ),
      );
    };
    const timer = setTimeout(() => {
      finish(
        new ProxyHeaderError(
          "timeout",
          `no complete PROXY header from ${peer} within ${options.timeoutMs} ms (${pending.length} bytes received)`,
          { address: peer },
        ),
      );
    }, options.timeoutMs);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onEnd);
    socket.resume();
  });
}

function withPeer(err: ProxyHeaderError, peer: string): ProxyHeaderError {
  return new ProxyHeaderError(err.problem, `${err.message} (from ${peer})`, { address: peer, cause: err });
}
