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
 * And one method of rr-tcp's own, which RoadRunner does not have:
 *
 *   tcp.Connections(plugin string)        rr.tcp.v1.ConnectionList, as its generated toJSON writes it
 *
 * Its argument is "tcp", or empty; its result lists the open connections, oldest first, the same
 * JSON as the control API's GET /connections:
 * `{"connections":[{"uuid":"…","server":"main","remoteAddr":"127.0.0.1:50312",
 * "age":{"seconds":12,"nanos":500000000},"bytesReceived":120,"bytesSent":96}]}`. Fields at their
 * zero value are left out (no open connection is `{}`); `ConnectionList.fromJSON` (gen/ts) reads it.
 */
import { RrTcpError } from "../errors.js";
import { ConnectionList, type WorkerState } from "../../gen/ts/rr/tcp/v1/control.js";
import { durationToMs } from "../protocol/index.js";
import { PLUGIN, type ControlledPool, type ControlledServer } from "./control-target.js";
import { roadRunnerState } from "./roadrunner-state.js";

/** An error the method returns to the caller (Go: the error of the method). */
export class RpcMethodError extends RrTcpError<"RPC_METHOD"> {
  constructor(message: string, options?: { uuid?: string }) {
    super("RPC_METHOD", message, options);
  }
}

export type RpcMethod = (arg: unknown) => Promise<unknown> | unknown;

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
  return new Map<string, RpcMethod>([
    [
      "tcp.Close",
      (arg) => {
        if (typeof arg !== "string") {
          throw new RpcMethodError(`tcp.Close takes the connection's uuid (a JSON string), got ${describe(arg)}`);
        }
        server.closeConnection(arg.toLowerCase());
        return true;
      },
    ],
    [
      "tcp.Connections",
      (arg) => {
        if (typeof arg === "string" && arg !== "" && arg !== PLUGIN) {
          throw new RpcMethodError(`no such plugin: ${arg} (rr-tcp runs only "${PLUGIN}")`);
        }
        return ConnectionList.toJSON({ connections: server.connections() });
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

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
