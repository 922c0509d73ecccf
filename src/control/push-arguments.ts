/**
 * The arguments of the push methods (tcp.Write, tcp.WriteClose, tcp.Broadcast) and of tcp.List,
 * read from the JSON a caller sends: what Go's encoding/json makes of the schema's request
 * message (rr.tcp.v1 WriteConnectionRequest, BroadcastRequest, ListConnectionsRequest), field
 * names as in the .proto, `bytes` as standard base64 with padding.
 *
 * Stricter than Go's decoder on purpose: an unknown key is an error naming it (Go would drop it,
 * and a misspelled "uid" would then be "no open connection has uuid ''"), and so is a field of
 * the wrong type, each error naming the method and the field.
 */
import { RpcMethodError } from "./rpc-method-error.js";

/** tcp.Write's and tcp.WriteClose's argument: WriteConnectionRequest. */
export interface WriteArgument {
  /** Lower case, as the registry keys it. */
  readonly uuid: string;
  readonly data: Buffer;
}

/** tcp.Broadcast's argument: BroadcastRequest. */
export interface BroadcastArgument {
  readonly server: string;
  readonly data: Buffer;
}

// Standard alphabet, padded to a multiple of 4, as Go's base64.StdEncoding writes it.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** @throws RpcMethodError naming the method and the field */
export function writeArgument(method: string, arg: unknown): WriteArgument {
  const fields = message(method, arg, "WriteConnectionRequest", ["uuid", "data"], '{"uuid":"…","data":"<base64>"}');
  const uuid = stringField(method, fields, "uuid");
  if (uuid === "") throw new RpcMethodError(`${method}: "uuid" is missing or empty; it names the connection`);
  return { uuid: uuid.toLowerCase(), data: bytesField(method, fields, "data") };
}

/** @throws RpcMethodError naming the method and the field */
export function broadcastArgument(method: string, arg: unknown): BroadcastArgument {
  const fields = message(method, arg, "BroadcastRequest", ["server", "data"], '{"server":"main","data":"<base64>"}');
  const server = stringField(method, fields, "server");
  if (server === "") throw new RpcMethodError(`${method}: "server" is missing or empty; it names a key of tcp.servers`);
  return { server, data: bytesField(method, fields, "data") };
}

/**
 * tcp.List's argument: ListConnectionsRequest (`{"server":"main"}`, `{}`), a bare server name
 * (`$rpc->call('tcp.List', 'main')`), or nothing (null, an empty body). Empty means every server.
 * @throws RpcMethodError naming the field
 */
export function listArgument(method: string, arg: unknown): string {
  if (arg === null || typeof arg === "string") return arg ?? "";
  const fields = message(method, arg, "ListConnectionsRequest", ["server"], '{"server":"main"}, {} or "main"');
  return stringField(method, fields, "server");
}

function message(
  method: string,
  arg: unknown,
  name: string,
  keys: readonly string[],
  example: string,
): Record<string, unknown> {
  if (typeof arg !== "object" || arg === null || Array.isArray(arg)) {
    throw new RpcMethodError(`${method} takes rr.tcp.v1.${name} as a JSON object, ${example}; got ${describe(arg)}`);
  }
  const unknown = Object.keys(arg).filter((key) => !keys.includes(key));
  if (unknown.length > 0) {
    const list = unknown.map((key) => JSON.stringify(key)).join(", ");
    throw new RpcMethodError(
      `${method}: unknown field ${list} in rr.tcp.v1.${name} (its fields: ${keys.map((k) => `"${k}"`).join(", ")})`,
    );
  }
  return arg as Record<string, unknown>;
}

// Go's omitempty leaves a zero field out, and a nil one may be null: both are the zero value.
function stringField(method: string, fields: Record<string, unknown>, key: string): string {
  const value = fields[key];
  if (value === undefined || value === null) return "";
  if (typeof value !== "string")
    throw new RpcMethodError(`${method}: "${key}" must be a string, got ${describe(value)}`);
  return value;
}

function bytesField(method: string, fields: Record<string, unknown>, key: string): Buffer {
  const value = fields[key];
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value !== "string" || !BASE64.test(value)) {
    throw new RpcMethodError(
      `${method}: "${key}" must be the bytes in standard base64 with padding (Go's encoding/json of []byte), got ${typeof value === "string" ? "a string that is not" : describe(value)}`,
    );
  }
  return Buffer.from(value, "base64");
}

/** What a JSON value is, for an error message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
