/**
 * Several server processes (tcp.processes > 1), started and supervised by this one, the primary,
 * with node:cluster: they share the listeners (node:cluster hands each new connection to one of
 * them in turn), each owns its share of the workers, of max_connections and of the buffer budget
 * (config/process-shares.ts), and each runs an ordinary Service (process-member.ts).
 *
 * The primary holds no client connection and no worker. It holds the endpoints (RoadRunner's
 * RPC, the control API, status, metrics), and answers them for all the processes over the IPC
 * channel (process-messages.ts):
 *
 * - a uuid (tcp.Write, tcp.WriteClose, tcp.Close) is asked of every process at once; the one
 *   holding it answers, the others refuse it as unknown; in a cluster (Redis) one process asks
 *   the registry instead, each process being an instance of its own;
 * - listings, broadcasts, counters, pool states and metrics are every process's, merged;
 * - reset goes to every process; a worker added goes to the process with the fewest, a worker
 *   removed comes from the one with the most.
 *
 * The synchronous reads (pool state, counters) answer from each process's latest snapshot, which
 * every endpoint request refreshes first. A process that exits unasked is started again (its
 * connections were lost with it); stop asks each to stop as one process would, and kills what
 * has not stopped in time.
 */
import cluster, { type Worker as ClusterWorker } from "node:cluster";
import { resolve as resolvePath } from "node:path";
import type { Logger } from "pino";
import { AggregatorRegistry, Registry } from "prom-client";
import type { ConnectionInfo, PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import { processCount, processShare } from "../config/index.js";
import type { LoadedConfig } from "../config/load.js";
import type { BroadcastOutcome, ControlledPool, ControlledServer } from "../control/control-target.js";
import { errorCode, errorMessage, RrTcpError } from "../errors.js";
import { parseListenAddress, removeStaleSocketFile } from "../net/index.js";
import { newServerCounters, type PushOutcome, type ServerCounters } from "../server/index.js";
import {
  isProcessMessage,
  uncrossError,
  type FromProcess,
  type ProcessCalls,
  type ProcessOp,
  type ProcessSnapshot,
  type StartMessage,
} from "./process-messages.js";
import { killProcessGroups } from "./signals.js";

/** The longest a process may take to answer a read (snapshot, listing, push, metrics). */
const CALL_TIMEOUT_MS = 5_000;
/** Calls that wait on workers (a reset restarts them all) get no timeout of their own. */
const UNTIMED: ReadonlySet<ProcessOp> = new Set<ProcessOp>(["reset", "addWorker", "removeWorker", "stop"]);
/** The first delay before a process that exited unasked is started again; doubled up to the max. */
const RESTART_DELAY_MS = 100;
const RESTART_DELAY_MAX_MS = 5_000;
/** A process that ran this long has its restart delay reset. */
const RESTART_HEALTHY_MS = 30_000;

/** What `ProcessGroup.start` needs besides the config. */
export interface ProcessGroupOptions {
  readonly logger: Logger;
  /** RR_RPC for every process's workers: the primary's RPC address, when rpc.listen is set. */
  readonly rpcAddress?: string;
  /** The processes keep metrics registries: an endpoint of the primary serves them. */
  readonly metrics: boolean;
  /**
   * Where the processes start: where rr-tcp was launched, so that node resolves its own flags
   * (`--import tsx`) as it did for the primary; -w or the config's folder may have changed ours.
   */
  readonly launchDir?: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** One server process: its node:cluster worker, its calls in flight, what it last reported. */
interface Member {
  readonly index: number;
  worker: ClusterWorker;
  startedAt: number;
  restartDelayMs: number;
  ready: boolean;
  /** Started again after an exit: a failed start is retried (the first start fails the group's). */
  restarting: boolean;
  snapshot: ProcessSnapshot | undefined;
  addresses: Record<string, string>;
  readonly pending: Map<number, Pending>;
}

/** Why a server process failed a call or could not be reached (code PROCESS_GONE, PROCESS_TIMEOUT). */
export class ProcessGroupError extends RrTcpError<"PROCESS_GONE" | "PROCESS_TIMEOUT" | "PROCESS_START"> {}

/** `into` plus `from`, number by number, through nested records. */
function addInto(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(from)) {
    if (typeof value === "number") into[key] = ((into[key] as number | undefined) ?? 0) + value;
    else if (typeof value === "object" && value !== null) {
      into[key] ??= {};
      addInto(into[key] as Record<string, unknown>, value as Record<string, unknown>);
    }
  }
}

/** Older first: the largest age leads. */
function byAge(a: ConnectionInfo, b: ConnectionInfo): number {
  const seconds = (c: ConnectionInfo): number => (c.age?.seconds ?? 0) + (c.age?.nanos ?? 0) / 1e9;
  return seconds(b) - seconds(a);
}

export class ProcessGroup {
  readonly #members: Member[] = [];
  readonly #logger: Logger;
  readonly #across: boolean;
  #nextId = 1;
  /** Restarts waiting for their delay. */
  readonly #restarts = new Set<NodeJS.Timeout>();
  #stopping: Promise<void> | undefined;
  /** The pool's face of the group, as the endpoints drive it. */
  readonly pool: ControlledPool & { killBusyWorkers(reason: string): Promise<number> };
  /** The servers' face of the group, as the endpoints push to it. */
  readonly server: ControlledServer & {
    addresses(): Record<string, string>;
    reloadCertificates(): Promise<string[]>;
  };

  private constructor(
    private readonly loaded: LoadedConfig,
    private readonly options: ProcessGroupOptions,
  ) {
    this.#logger = options.logger;
    this.#across = loaded.config.cluster !== undefined;
    this.pool = {
      state: () => this.#state(),
      restarts: () => {
        const total: Record<string, number> = {};
        for (const snapshot of this.#snapshots()) addInto(total, snapshot.restarts as Record<string, number>);
        return total;
      },
      cpuPercent: (pid) => {
        for (const snapshot of this.#snapshots()) if (snapshot.cpu[pid] !== undefined) return snapshot.cpu[pid]!;
        return 0;
      },
      reset: async () => {
        await Promise.all(this.#live().map((m) => this.#call(m, "reset")));
      },
      addWorker: async () => {
        await this.refresh();
        const fewest = this.#byWorkers().at(0);
        if (fewest === undefined) throw this.#noProcess();
        await this.#call(fewest, "addWorker");
      },
      removeWorker: async () => {
        await this.refresh();
        const most = this.#byWorkers().at(-1);
        if (most === undefined) throw this.#noProcess();
        await this.#call(most, "removeWorker");
      },
      killBusyWorkers: async (reason) => {
        const killed = await Promise.all(this.#live().map((m) => this.#call(m, "killBusyWorkers", reason)));
        return killed.reduce((n, k) => n + k, 0);
      },
    };
    this.server = {
      addresses: () => this.#members.find((m) => m.ready)?.addresses ?? {},
      counters: () => {
        const total: Record<string, ServerCounters> = {};
        for (const snapshot of this.#snapshots()) {
          for (const [name, counters] of Object.entries(snapshot.counters)) {
            total[name] ??= newServerCounters();
            addInto(total[name] as unknown as Record<string, unknown>, counters as unknown as Record<string, unknown>);
          }
        }
        return total;
      },
      bufferedBytes: () => this.#snapshots().reduce((n, s) => n + s.buffered, 0),
      retainedBytes: () => this.#snapshots().reduce((n, s) => n + s.retained, 0),
      connections: (server = "") => this.#connections(server),
      write: (uuid, data, close = false) => this.#held((m) => this.#call(m, "write", uuid, data, close, this.#across)),
      closeConnection: async (uuid) => {
        if (this.#across) return this.#call(this.#any(), "close", uuid, true);
        const answers = await Promise.all(this.#live().map((m) => this.#call(m, "close", uuid, false)));
        return answers.some(Boolean);
      },
      broadcast: (server, data) => this.#broadcast(server, data),
      reloadCertificates: async () =>
        (await Promise.all(this.#live().map((m) => this.#call(m, "reloadCertificates")))).flat(),
    };
  }

  /**
   * Starts `tcp.processes` server processes and resolves once every one listens with its
   * workers up. If one cannot start, the others are stopped and its error is thrown (with the
   * config key or the address it named).
   */
  static async start(loaded: LoadedConfig, options: ProcessGroupOptions): Promise<ProcessGroup> {
    const group = new ProcessGroup(loaded, options);
    // The listeners are node:cluster's, bound here in the primary: a stale socket file is ours to remove.
    for (const server of Object.values(loaded.config.tcp!.servers)) {
      const address = parseListenAddress(server.addr);
      if (address.kind === "unix") await removeStaleSocketFile(resolvePath(loaded.baseDir, address.path));
    }
    cluster.setupPrimary({
      serialization: "advanced",
      ...(options.launchDir !== undefined && { cwd: options.launchDir }),
    });
    const count = processCount(loaded.config);
    const started = Array.from({ length: count }, (_, index) => group.#fork(index));
    try {
      await Promise.all(started);
    } catch (err) {
      await group.stop(0);
      throw err;
    }
    return group;
  }

  /** Every process's latest snapshot, asked for now; a process that cannot answer keeps none. */
  async refresh(): Promise<void> {
    await Promise.all(
      this.#live().map(async (member) => {
        try {
          member.snapshot = await this.#call(member, "snapshot");
        } catch {
          member.snapshot = undefined;
        }
      }),
    );
  }

  /** Every process's metrics, added up (per-worker series keep their own labels). */
  async metrics(): Promise<string> {
    const all = await Promise.all(this.#live().map((m) => this.#call(m, "metrics")));
    return AggregatorRegistry.aggregate(all).metrics();
  }

  /** The metrics as /metrics serves them. */
  readonly metricsSource = {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    metrics: () => this.metrics(),
  };

  /** The pids of the processes and of their workers, as last reported: what a forced exit kills. */
  pids(): number[] {
    const pids: number[] = [];
    for (const member of this.#members) {
      if (member.worker.process.pid !== undefined) pids.push(member.worker.process.pid);
      for (const worker of member.snapshot?.state.workers ?? []) pids.push(worker.pid);
    }
    return pids;
  }

  /**
   * Asks every process to stop as one process stops (drain, CLOSE events, workers stopped) and
   * waits for them to exit; after `timeoutMs` plus a grace, kills what is left. Idempotent.
   */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      for (const timer of this.#restarts) clearTimeout(timer);
      this.#restarts.clear();
      const exits = this.#members.map(
        (member) =>
          new Promise<void>((resolve) => {
            if (member.worker.isDead()) return resolve();
            member.worker.once("exit", () => resolve());
          }),
      );
      for (const member of this.#members) {
        // One still starting takes no call yet: its signal handler stops it once it has started.
        if (!member.ready && !member.worker.isDead()) member.worker.process.kill("SIGTERM");
        else this.#call(member, "stop").catch(() => undefined);
      }
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        Promise.all(exits).then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs + 2_000))),
      ]);
      clearTimeout(timer);
      if (late) {
        this.#logger.warn("server processes did not stop in time: killing them and their workers");
        killProcessGroups(this.pids());
        await Promise.all(exits);
      }
    })();
    return this.#stopping;
  }

  #fork(index: number): Promise<void> {
    const worker = cluster.fork({ RR_TCP_PROCESS: String(index) });
    const existing = this.#members[index];
    const member: Member = existing ?? {
      index,
      worker,
      startedAt: Date.now(),
      restartDelayMs: RESTART_DELAY_MS,
      ready: false,
      restarting: false,
      snapshot: undefined,
      addresses: {},
      pending: new Map(),
    };
    member.worker = worker;
    member.ready = false;
    member.snapshot = undefined;
    member.startedAt = Date.now();
    this.#members[index] = member;
    const count = processCount(this.loaded.config);
    const start: StartMessage = {
      rr: "start",
      index,
      count,
      config: processShare(this.loaded.config, index, count, this.options.rpcAddress),
      file: this.loaded.file,
      baseDir: this.loaded.baseDir,
      metrics: this.options.metrics,
    };
    return new Promise((resolve, reject) => {
      // A send to a process that just exited fails; its exit is what counts.
      worker.on("error", (err: Error) => this.#logger.debug({ process: index, err }, "server process channel error"));
      worker.on("message", (message: unknown) => {
        if (!isProcessMessage(message)) return;
        const said = message as FromProcess;
        if (said.rr === "hello") {
          worker.send(start);
        } else if (said.rr === "ready") {
          member.ready = true;
          member.restarting = false;
          member.addresses = said.addresses;
          this.#logger.info({ process: index, process_pid: worker.process.pid }, `server process ${index} ready`);
          resolve();
        } else if (said.rr === "failed") {
          reject(uncrossError(said.error));
        } else if (said.rr === "answer") {
          const pending = member.pending.get(said.id);
          if (pending === undefined) return;
          member.pending.delete(said.id);
          clearTimeout(pending.timer);
          if ("error" in said) pending.reject(uncrossError(said.error));
          else pending.resolve(said.value);
        }
      });
      worker.once("exit", (code, signal) => {
        // One that never was ready failed its start: that fails the start (or this restart).
        const wasReady = member.ready;
        member.ready = false;
        member.snapshot = undefined;
        for (const [id, pending] of member.pending) {
          clearTimeout(pending.timer);
          pending.reject(
            new ProcessGroupError("PROCESS_GONE", `server process ${index} (pid ${worker.process.pid}) exited`, {
              pid: worker.process.pid,
            }),
          );
          member.pending.delete(id);
        }
        reject(
          new ProcessGroupError(
            "PROCESS_START",
            `server process ${index} exited before it was ready (${signal ?? `code ${code}`})`,
            { pid: worker.process.pid },
          ),
        );
        if (this.#stopping === undefined && (wasReady || member.restarting)) this.#restart(member, code, signal);
      });
    });
  }

  /** A process that exited unasked: its connections are gone; a new one takes its share. */
  #restart(member: Member, code: number | null, signal: string | null): void {
    if (Date.now() - member.startedAt > RESTART_HEALTHY_MS) member.restartDelayMs = RESTART_DELAY_MS;
    const delay = member.restartDelayMs;
    member.restartDelayMs = Math.min(RESTART_DELAY_MAX_MS, delay * 2);
    this.#logger.error(
      { process: member.index, process_pid: member.worker.process.pid, code, signal, restart_in_ms: delay },
      `server process ${member.index} exited (${signal ?? `code ${code}`}); its connections are lost; starting it again`,
    );
    member.restarting = true;
    // Not unref'd: with no endpoint, this timer is what keeps the primary up while no process runs.
    const timer = setTimeout(() => {
      this.#restarts.delete(timer);
      if (this.#stopping !== undefined) return;
      // A failed start exits too, and that exit schedules the next try.
      this.#fork(member.index).catch((err: unknown) => {
        this.#logger.error(
          { process: member.index, err },
          `server process ${member.index} could not start again: ${errorMessage(err)}`,
        );
      });
    }, delay);
    this.#restarts.add(timer);
  }

  #call<Op extends ProcessOp>(
    member: Member,
    op: Op,
    ...args: ProcessCalls[Op]["args"]
  ): Promise<ProcessCalls[Op]["result"]> {
    const { worker, index } = member;
    if (worker.isDead() || !worker.isConnected()) {
      return Promise.reject(
        new ProcessGroupError("PROCESS_GONE", `server process ${index} is not running`, { pid: worker.process.pid }),
      );
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = UNTIMED.has(op)
        ? undefined
        : setTimeout(() => {
            member.pending.delete(id);
            reject(
              new ProcessGroupError(
                "PROCESS_TIMEOUT",
                `server process ${index} (pid ${worker.process.pid}) did not answer ${op} within ${CALL_TIMEOUT_MS} ms`,
                { pid: worker.process.pid },
              ),
            );
          }, CALL_TIMEOUT_MS);
      member.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      worker.send({ rr: "call", id, op, args });
    });
  }

  /** The processes that can take calls now. */
  #live(): Member[] {
    return this.#members.filter((m) => m.ready && !m.worker.isDead());
  }

  #any(): Member {
    const member = this.#live()[0];
    if (member === undefined) throw this.#noProcess();
    return member;
  }

  #noProcess(): ProcessGroupError {
    return new ProcessGroupError("PROCESS_GONE", "no server process is running");
  }

  #snapshots(): ProcessSnapshot[] {
    return this.#members.flatMap((m) => (m.snapshot === undefined ? [] : [m.snapshot]));
  }

  /** The live processes, fewest workers first. */
  #byWorkers(): Member[] {
    const workers = (m: Member): number => m.snapshot?.state.workers.length ?? 0;
    return this.#live().sort((a, b) => workers(a) - workers(b) || a.index - b.index);
  }

  #state(): PoolState {
    const snapshots = this.#snapshots();
    return {
      workers: snapshots.flatMap((s) => s.state.workers),
      queued: snapshots.reduce((n, s) => n + s.state.queued, 0),
    };
  }

  async #connections(server: string): Promise<ConnectionInfo[]> {
    if (this.#across) return this.#call(this.#any(), "connections", server, true);
    const lists = await Promise.all(this.#live().map((m) => this.#call(m, "connections", server, false)));
    return lists.flat().sort(byAge);
  }

  /**
   * A call on one uuid: in a cluster one process finds its holder through the registry; else
   * every process is asked and the holder's answer (or refusal) is the answer. Only when every
   * process says it has no such connection is that the answer.
   */
  async #held(call: (member: Member) => Promise<PushOutcome>): Promise<PushOutcome> {
    if (this.#across) return call(this.#any());
    const members = this.#live();
    if (members.length === 0) throw this.#noProcess();
    const answers = await Promise.allSettled(members.map(call));
    const answered = answers.find((a) => a.status === "fulfilled");
    if (answered) return (answered as PromiseFulfilledResult<PushOutcome>).value;
    const reasons = answers.map((a) => (a as PromiseRejectedResult).reason as Error);
    throw reasons.find((r) => errorCode(r) !== "UNKNOWN_CONNECTION") ?? reasons[0];
  }

  async #broadcast(server: string, data: Buffer): Promise<BroadcastOutcome> {
    if (this.#across) return this.#call(this.#any(), "broadcast", server, data, true);
    const outcomes = await Promise.all(this.#live().map((m) => this.#call(m, "broadcast", server, data, false)));
    return {
      reached: outcomes.reduce((n, o) => n + o.reached, 0),
      refused: outcomes.flatMap((o) => o.refused),
    };
  }
}
