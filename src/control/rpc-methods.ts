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
 */
import { RrTcpError } from "../errors.js";
import { WorkerStatus, type WorkerState } from "../../gen/ts/rr/tcp/v1/control.js";
import { durationToMs } from "../protocol/index.js";
import type { ControlledPool, ControlledServer } from "./control-target.js";

/** The plugin name RoadRunner registers the TCP server under. */
const PLUGIN = "tcp";

/** An error the method returns to the caller (Go: the error of the method). */
export class RpcMethodError extends RrTcpError<"RPC_METHOD"> {
  constructor(message: string, options?: { uuid?: string }) {
    super("RPC_METHOD", message, options);
  }
}

export type RpcMethod = (arg: unknown) => Promise<unknown> | unknown;

/** RoadRunner's worker state numbers and names (pool `fsm/state.go`). */
const FSM: Record<WorkerStatus, [number, string]> = {
  [WorkerStatus.UNSPECIFIED]: [0, "inactive"],
  [WorkerStatus.STARTING]: [0, "inactive"],
  [WorkerStatus.READY]: [1, "ready"],
  [WorkerStatus.WORKING]: [2, "working"],
  [WorkerStatus.STOPPING]: [4, "stopping"],
  [WorkerStatus.STOPPED]: [5, "stopped"],
  [WorkerStatus.UNRECOGNIZED]: [0, "inactive"],
};

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
        return { workers: pool.state().workers.map((w) => processState(w, now)) };
      },
    ],
  ]);
}

// RoadRunner's process.State, its fields in its order; CPU and command are not tracked here.
function processState(worker: WorkerState, now: number) {
  const [status, statusStr] = FSM[worker.status];
  return {
    pid: worker.pid,
    status,
    numExecs: worker.num_execs,
    created: BigInt(Math.round((now - durationToMs(worker.age)) * 1e6)),
    memoryUsage: worker.rss_bytes,
    CPUPercent: 0,
    command: "",
    statusStr,
  };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
