/**
 * The RPC methods RoadRunner's plugins register that concern a TCP server, answered from rr-tcp's
 * pool and servers with RoadRunner's argument and result shapes (Go net/rpc: one argument, one
 * result; JSON codec):
 *
 *   tcp.Close(uuid string) bool           close a client connection; true even for an unknown uuid
 *   resetter.List(bool) []string          ["tcp"]
 *   resetter.Reset(plugin string) bool    replace every worker
 *   informer.List(bool) []string          ["tcp"]
 *   informer.Workers(plugin string)       {"workers": [process.State...]}
 *   informer.AddWorker(plugin string)     one more worker
 *   informer.RemoveWorker(plugin string)  one worker fewer
 *
 * AddWorker and RemoveWorker answer false: RoadRunner's methods never set their bool result.
 * informer.Workers' CPUPercent is, as RoadRunner's (gopsutil's Process.CPUPercent), the CPU the
 * worker used over its whole life in percent of one core, rounded to hundredths.
 *
 * And methods of rr-tcp's own, which RoadRunner does not have (issue 17, Push):
 *
 *   tcp.Connections(plugin string)            rr.tcp.v1.ConnectionList, as its generated toJSON writes it
 *   tcp.List(ListConnectionsRequest)          the same list, of one server or of all
 *   tcp.Write(WriteConnectionRequest) bool    write bytes to one client, from outside its events
 *   tcp.WriteClose(WriteConnectionRequest)    the same, then close it (with its CLOSE event)
 *   tcp.Broadcast(BroadcastRequest) bool      write bytes to every client of one server
 *
 * tcp.Connections' argument is "tcp", or empty; its result lists the open connections, oldest
 * first, the same JSON as the control API's GET /connections:
 * `{"connections":[{"uuid":"…","server":"main","remoteAddr":"127.0.0.1:50312",
 * "age":{"seconds":12,"nanos":500000000},"bytesReceived":120,"bytesSent":96}]}`. Fields at their
 * zero value are left out (no open connection is `{}`); `ConnectionList.fromJSON` (gen/ts) reads it.
 * tcp.List answers the same, one implementation: its argument is `{"server":"main"}` (only that
 * server's connections), `{}`, a bare `"main"`, or nothing (every server's).
 *
 * The push methods take what Go's encoding/json makes of their schema message, bytes in standard
 * base64: tcp.Write and tcp.WriteClose `{"uuid":"6f1c…","data":"aGVsbG8NCg=="}`, tcp.Broadcast
 * `{"server":"main","data":"aGVsbG8NCg=="}` (push-arguments.ts reads them). They answer `true`
 * once the bytes are taken: written, or waiting behind the reply of the event that is with a
 * worker, which they then follow. An error frame otherwise, its message naming what is wrong:
 * `no open connection has uuid …`, `no server is named "chat" (tcp.servers has main)`, `the
 * client of connection … does not read: …` (tcp.Write to a client at its high-water mark: nothing
 * is written), `connection … is closing`, or the field of a bad argument. tcp.Broadcast skips
 * clients that do not read (logged) and still answers true; the control API's broadcast lists them.
 */
import { ConnectionList, type WorkerState } from "../../gen/ts/rr/tcp/v1/control.js";
import { durationToMs } from "../protocol/index.js";
import { PushError } from "../server/index.js";
import { PLUGIN, type ControlledPool, type ControlledServer } from "./control-target.js";
import { broadcastArgument, describe, listArgument, writeArgument } from "./push-arguments.js";
import { RpcMethodError } from "./rpc-method-error.js";
import { roadRunnerState } from "./roadrunner-state.js";

export { RpcMethodError } from "./rpc-method-error.js";

export type RpcMethod = (arg: unknown) => Promise<unknown> | unknown;

/** The methods that answer from the pool's synchronous reads: where those are a copy, refreshed first. */
export const STATE_READING_METHODS: ReadonlySet<string> = new Set(["informer.Workers"]);

export function createRpcMethods(pool: ControlledPool, server: ControlledServer): Map<string, RpcMethod> {
  const pluginName = (method: string, arg: unknown): string => {
    if (typeof arg !== "string") throw new RpcMethodError(`${method} takes a plugin name (a JSON string)`);
    return arg;
  };
  // A pool action on RoadRunner's "tcp" plugin, answered with RoadRunner's fixed result.
  const onPool = (method: string, action: () => Promise<void>, result: boolean): [string, RpcMethod] => [
    method,
    async (arg) => {
      const name = pluginName(method, arg);
      if (name !== PLUGIN) throw new RpcMethodError(`no such plugin: ${name} (rr-tcp runs only "${PLUGIN}")`);
      await action();
      return result;
    },
  ];
  // A push or a listing, its refusal (unknown uuid or server, a client not reading) the caller's error.
  const pushing = async <T>(run: () => T | Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof PushError) throw new RpcMethodError(err.message, { uuid: err.uuid, cause: err });
      throw err;
    }
  };
  const list = async (only: string): Promise<unknown> =>
    ConnectionList.toJSON({ connections: await pushing(() => server.connections(only)) });
  const write = (method: string, close: boolean): [string, RpcMethod] => [
    method,
    async (arg) => {
      const { uuid, data } = writeArgument(method, arg);
      await pushing(() => server.write(uuid, data, close));
      return true;
    },
  ];
  return new Map<string, RpcMethod>([
    [
      "tcp.Close",
      async (arg) => {
        if (typeof arg !== "string") {
          throw new RpcMethodError(`tcp.Close takes the connection's uuid (a JSON string), got ${describe(arg)}`);
        }
        await pushing(() => server.closeConnection(arg.toLowerCase()));
        return true;
      },
    ],
    [
      "tcp.Connections",
      (arg) => {
        if (typeof arg === "string" && arg !== "" && arg !== PLUGIN) {
          throw new RpcMethodError(`no such plugin: ${arg} (rr-tcp runs only "${PLUGIN}")`);
        }
        return list("");
      },
    ],
    ["tcp.List", (arg) => list(listArgument("tcp.List", arg))],
    write("tcp.Write", false),
    write("tcp.WriteClose", true),
    [
      "tcp.Broadcast",
      async (arg) => {
        const { server: name, data } = broadcastArgument("tcp.Broadcast", arg);
        await pushing(() => server.broadcast(name, data));
        return true;
      },
    ],
    ["resetter.List", () => [PLUGIN]],
    onPool("resetter.Reset", () => pool.reset(), true),
    ["informer.List", () => [PLUGIN]],
    onPool("informer.AddWorker", () => pool.addWorker(), false),
    onPool("informer.RemoveWorker", () => pool.removeWorker(), false),
    [
      "informer.Workers",
      (arg) => {
        const name = pluginName("informer.Workers", arg);
        // RoadRunner answers a plugin without workers with a nil list.
        if (name !== PLUGIN) return { workers: null };
        const now = Date.now();
        return { workers: pool.state().workers.map((w) => processState(w, now, pool.cpuPercent(w.pid))) };
      },
    ],
  ]);
}

// RoadRunner's process.State, its fields in its order; the command is not tracked here.
/** One worker in informer.Workers' answer: RoadRunner's process.State as its JSON has it. */
export interface ProcessState {
  pid: number;
  /** RoadRunner's fsm state number. */
  status: number;
  numExecs: number;
  /** Unix time in nanoseconds. */
  created: bigint;
  memoryUsage: number;
  CPUPercent: number;
  command: string;
  statusStr: string;
}

function processState(worker: WorkerState, now: number, cpuPercent: number): ProcessState {
  const { code, name } = roadRunnerState(worker.status);
  return {
    pid: worker.pid,
    status: code,
    numExecs: worker.num_execs,
    created: BigInt(Math.round((now - durationToMs(worker.age)) * 1e6)),
    memoryUsage: worker.rss_bytes,
    // Hundredths: also keeps Go's and JavaScript's ways of writing tiny floats from differing.
    CPUPercent: Math.round(cpuPercent * 100) / 100,
    command: "",
    statusStr: name,
  };
}
