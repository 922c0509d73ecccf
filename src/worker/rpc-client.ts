/**
 * RoadRunner's RPC from a worker (`RR_RPC`), as spiral/goridge's `RPC` class gives it to PHP:
 * `await rpc.call("tcp.Close", request.uuid)` closes a connection from outside its own event,
 * under rr-tcp and under RoadRunner alike. JSON codec; one call at a time on the connection,
 * further calls wait their turn.
 *
 * rr-tcp's push methods (not RoadRunner's) have helpers that build their schema messages, bytes
 * in base64 as Go's encoding/json writes them: `await rpc.write(uuid, "hello\r\n")` (tcp.Write),
 * `writeClose`, `broadcast(server, bytes)` and `list(server?)`. A push to the connection whose
 * event the worker holds is written after that event's reply.
 */
import type { Socket } from "node:net";
import { RrTcpError } from "../errors.js";
import { connectSocket, StreamRelay } from "../relay/index.js";
import { encodeRpcRequest, FrameFlag, parseRpcReply, RpcFrameError } from "../goridge/index.js";
import { parseRelayAddress, relayAddressError } from "../net/index.js";
import { ConnectionList } from "../../gen/ts/rr/tcp/v1/control.js";

/** The server answered a call with an error (unknown method, bad argument, the method failed). */
export class RpcCallError extends RrTcpError<"RPC_CALL_FAILED"> {
  constructor(
    readonly method: string,
    readonly serverMessage: string,
  ) {
    super("RPC_CALL_FAILED", `RPC ${method} failed: ${serverMessage}`);
  }
}

export class RpcClient {
  #seq = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  readonly #relay: StreamRelay;

  private constructor(
    private readonly socket: Socket,
    name: string,
  ) {
    this.#relay = new StreamRelay(socket, socket, { name });
    // An idle client must not keep its worker alive after the server asked it to stop.
    socket.unref();
  }

  /**
   * @param address `tcp://host:port` or `unix://path`; default `RR_RPC`, then RoadRunner's
   *   default `tcp://127.0.0.1:6001`.
   * @throws AddressError (also for `pipes`, which are the worker's own relay), RelayConnectError.
   */
  static async connect(address = process.env.RR_RPC || "tcp://127.0.0.1:6001"): Promise<RpcClient> {
    const parsed = parseRelayAddress(address);
    if (parsed.kind === "pipes") {
      throw relayAddressError(address, "RPC needs a tcp or unix address; pipes are the worker's own relay");
    }
    const name = `RPC ${address}`;
    return new RpcClient(await connectSocket(parsed, name), name);
  }

  /**
   * Calls `method` ("Service.Method") with `arg`, JSON-encoded, and returns the decoded result.
   *
   * @throws RpcCallError when the server answers with an error; RelayClosedError or
   *   RpcFrameError when the connection breaks or answers out of turn.
   */
  call(method: string, arg: unknown): Promise<unknown> {
    const result = this.#queue.then(() => this.#call(method, arg));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /**
   * tcp.Write: `data` (a string is its UTF-8 bytes) to one client, from outside its events.
   * @throws RpcCallError for an unknown uuid, a closing connection, a client that does not read
   */
  async write(uuid: string, data: string | Uint8Array): Promise<void> {
    await this.call("tcp.Write", { uuid, data: base64(data) });
  }

  /** tcp.WriteClose: as {@link write}, then the connection closes (with its CLOSE event). */
  async writeClose(uuid: string, data: string | Uint8Array = ""): Promise<void> {
    await this.call("tcp.WriteClose", { uuid, data: base64(data) });
  }

  /**
   * tcp.Broadcast: `data` to every client of the server named `server` (clients that do not read
   * are skipped; the server logs them).
   * @throws RpcCallError for an unknown server
   */
  async broadcast(server: string, data: string | Uint8Array): Promise<void> {
    await this.call("tcp.Broadcast", { server, data: base64(data) });
  }

  /** tcp.List: the open connections, of one server or (without it) of all, oldest first. */
  async list(server?: string): Promise<ConnectionList> {
    return ConnectionList.fromJSON(await this.call("tcp.List", server === undefined ? {} : { server }));
  }

  close(): void {
    this.#relay.close();
  }

  async #call(method: string, arg: unknown): Promise<unknown> {
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    if (this.#pending++ === 0) this.socket.ref();
    try {
      this.#relay.send(encodeRpcRequest(seq, method, FrameFlag.CODEC_JSON, Buffer.from(JSON.stringify(arg ?? null))));
      const reply = parseRpcReply(await this.#relay.receive(), seq);
      if (!reply.ok) throw new RpcCallError(method, reply.message);
      return reply.body.length === 0 ? null : JSON.parse(reply.body.toString("utf8"));
    } catch (err) {
      // Out of step with the server: every later reply would answer the wrong call.
      if (err instanceof RpcFrameError) this.#relay.close();
      throw err;
    } finally {
      if (--this.#pending === 0) this.socket.unref();
    }
  }
}

// A []byte as Go's encoding/json writes it: standard base64, padded.
function base64(data: string | Uint8Array): string {
  return (
    typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  ).toString("base64");
}
