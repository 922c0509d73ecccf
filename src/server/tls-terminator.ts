/**
 * TLS for one named server (`tcp.servers.<name>.tls`, docs/tls.md): its certificate, loaded at
 * start and again on reload (SIGHUP, a reset), and the handshake of each accepted socket, done
 * before the Connection exists so that a client that cannot complete it never reaches a worker.
 * The Connection then reads and writes the decrypted stream as it would a plain socket.
 */
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { resolve } from "node:path";
import { createSecureContext, TLSSocket, type SecureContext } from "node:tls";
import { ClientAuth, type TlsOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { errorCode, errorMessage, RrTcpError } from "../errors.js";
import { defaultMs } from "../options/index.js";
import { durationToMs } from "../protocol/index.js";

/** A certificate that cannot be loaded, or a handshake that failed. */
export class TlsError extends RrTcpError<"TLS_CERTIFICATE" | "TLS_HANDSHAKE"> {}

export class TlsTerminator {
  readonly #key: string;
  readonly #files: { cert: string; key: string; ca: string | undefined };
  readonly #requestCert: boolean;
  readonly #rejectUnauthorized: boolean;
  readonly handshakeTimeoutMs: number;
  #context: SecureContext;

  /**
   * Loads the certificate of `tcp.servers.<server>.tls`.
   *
   * @param baseDir relative paths are resolved against it (the config's directory).
   * @throws TlsError TLS_CERTIFICATE naming the key and the file when one cannot be read or used.
   */
  constructor(server: string, options: TlsOptions, baseDir: string) {
    this.#key = `tcp.servers.${server}.tls`;
    this.#files = {
      cert: resolve(baseDir, options.cert),
      key: resolve(baseDir, options.key),
      ca: options.ca === "" ? undefined : resolve(baseDir, options.ca),
    };
    const auth = options.client_auth;
    this.#requestCert = auth === ClientAuth.REQUEST || auth === ClientAuth.REQUIRE;
    this.#rejectUnauthorized = auth === ClientAuth.REQUIRE;
    this.handshakeTimeoutMs = durationToMs(options.handshake_timeout) || defaultMs("TlsOptions", "handshake_timeout");
    this.#context = this.#load();
  }

  /**
   * Reads the files again; new connections get the new certificate. On failure the old one stays.
   * @throws TlsError TLS_CERTIFICATE
   */
  reload(): void {
    this.#context = this.#load();
  }

  /**
   * Runs the server side of the handshake on a freshly accepted socket (bytes already read from
   * it, a PROXY header's followers, are part of it). Resolves with the TLS socket, paused.
   *
   * @throws TlsError TLS_HANDSHAKE (rejects) when the client fails it, leaves, or takes longer
   *   than handshake_timeout; the socket is destroyed then.
   */
  handshake(socket: Socket, peer: string): Promise<TLSSocket> {
    const secure = new TLSSocket(socket, {
      isServer: true,
      secureContext: this.#context,
      requestCert: this.#requestCert,
      rejectUnauthorized: this.#rejectUnauthorized,
    });
    return new Promise<TLSSocket>((done, fail) => {
      const failed = (why: string, cause?: unknown): void => {
        clearTimeout(timer);
        secure.off("secure", onSecure);
        secure.destroy();
        socket.destroy();
        fail(new TlsError("TLS_HANDSHAKE", `TLS handshake with ${peer} failed: ${why}`, { address: peer, cause }));
      };
      const onSecure = (): void => {
        clearTimeout(timer);
        secure.off("error", onError);
        secure.off("close", onClose);
        secure.pause();
        done(secure);
      };
      const onError = (err: Error): void => failed(errorCode(err) ?? errorMessage(err), err);
      const onClose = (): void => failed("the client closed the connection");
      const timer = setTimeout(() => failed(`not done within ${this.handshakeTimeoutMs} ms`), this.handshakeTimeoutMs);
      secure.once("secure", onSecure);
      secure.once("error", onError);
      secure.once("close", onClose);
    });
  }

  #load(): SecureContext {
    const read = (what: "cert" | "key" | "ca", path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new TlsError("TLS_CERTIFICATE", `${this.#key}.${what}: cannot read ${path}: ${errorMessage(err)}`, {
          key: `${this.#key}.${what}`,
          cause: err,
        });
      }
    };
    const cert = read("cert", this.#files.cert);
    const key = read("key", this.#files.key);
    const ca = this.#files.ca === undefined ? undefined : read("ca", this.#files.ca);
    try {
      return createSecureContext({ cert, key, ...(ca !== undefined && { ca }) });
    } catch (err) {
      throw new TlsError(
        "TLS_CERTIFICATE",
        `${this.#key}: cannot use ${this.#files.cert} with ${this.#files.key}: ${errorMessage(err)}`,
        { key: this.#key, cause: err },
      );
    }
  }
}
