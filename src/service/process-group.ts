/**
 * Several server processes (tcp.processes > 1), started and supervised by this one, the primary,
 * with node:cluster: each owns its share of the workers, of max_connections and of the buffer
 * budget (config/process-shares.ts), and each runs an ordinary Service (process-member.ts) that
 * listens nowhere.
 *
 * The primary listens on every tcp.servers address and hands each connection it accepts to a
 * ready process, passing the socket over the IPC channel; it reads nothing of it. It keeps its
 * own copy until the process says it adopted the connection, then closes it; when a process dies,
 * the copies of every connection still on its way there are closed, so those clients see their
 * connection end. Not node:cluster's round robin, nor Node's own closing of a passed socket:
 * each leaves a socket handed to a process killed at the wrong moment open in the primary with
 * no one reading it, and its client waiting forever.
 *
 * The primary holds no worker. It holds the endpoints (RoadRunner's RPC, the control API,
 * status, metrics), and answers them for all the processes over the IPC channel
 * (process-messages.ts):
 *
 * - a uuid (tcp.Write, tcp.WriteClose, tcp.Close) is asked of every process at once; the one
 *   holding it answers, the others refuse it as unknown; in a cluster (Redis) one process asks
 *   the registry instead, each process being an instance of its own;
 * - listings, broadcasts, counters, pool states and metrics are every process's, merged;
 * - reset goes to every process; a worker added goes to the process with the fewest, a worker
 *   removed comes from the one with the most.
 *
 * The synchronous reads (pool state, counters) answer from each process's latest snapshot, which
 * the requests that read them refresh first (one refresh at a time, shared by the requests that
 * came while it ran). A process that exits unasked is started again (its connections were lost
 * with it), and what it had counted stays in the totals (process-totals.ts). A process that
 * fails a fan-out call does not fail the others' part: what they did is the answer, and the
 * failure is logged, or thrown when no process could do it. Stop asks each to stop as one
 * process would, and kills what has not stopped in time.
 */
import cluster, { type Worker as ClusterWorker } from "node:cluster";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { Counter, Gauge, Registry } from "prom-client";
import type { ConnectionInfo, PoolState } from "../../gen/ts/rr/tcp/v1/control.js";
import { processCount, processShare } from "../config/index.js";
import type { LoadedConfig } from "../config/load.js";
import type { BroadcastOutcome, ControlledPool, ControlledServer } from "../control/control-target.js";
import { errorCode, errorMessage, RrTcpError } from "../errors.js";
import { describeLimit, LIMITS } from "../limits.js";
import { parseListenAddress } from "../net/index.js";
import { openListener, PushError, type Listener, type PushOutcome } from "../server/index.js";
import {
  isProcessMessage,
  uncrossError,
  type FromProcess,
  type ProcessCalls,
  type ProcessOp,
  type ProcessSnapshot,
  type StartMessage,
} from "./process-messages.js";
import { cumulativeSeries, ProcessTotals, type MetricsJson } from "./process-totals.js";
import { childPids, killProcessGroups } from "./signals.js";

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
  /** The primary's copies of the connections sent to it and not yet adopted, by hand-off id. */
  readonly handing: Map<number, Socket>;
  /** Its metrics at the last scrape it answered. */
  metrics: MetricsJson | undefined;
  readonly pending: Map<number, Pending>;
}

/** Why a server process failed a call or could not be reached (code PROCESS_GONE, PROCESS_TIMEOUT). */
export class ProcessGroupError extends RrTcpError<"PROCESS_GONE" | "PROCESS_TIMEOUT" | "PROCESS_START"> {}

/** What a fan-out call got: the answers of the processes that gave one, the failures of the others. */
interface FanOut<T> {
  readonly values: T[];
  /** Not counting processes that exited meanwhile: their part went with them. */
  readonly failures: Error[];
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
  readonly #totals = new ProcessTotals();
  /** The refresh running, and the one that follows it for the requests that came meanwhile. */
  #refreshing: Promise<void> | undefined;
  #nextRefresh: Promise<void> | undefined;
  /** The listeners of tcp.servers, by name; the processes get what they accept. */
  readonly #listeners = new Map<string, Listener>();
  /** Every process was ready once: from then on, a process that comes up takes the waiting connections. */
  #started = false;
  /** Where the next connection goes: the live processes taken in turn. */
  #turn = 0;
  /** Connections accepted while no process was ready, oldest first: handed out once one is. */
  readonly #waiting: Array<{ server: string; socket: Socket }> = [];
  /** The primary's own metrics (its processes' restarts), when metrics are served. */
  readonly #registry: Registry | undefined;
  readonly #processRestarts: Counter | undefined;
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
    if (options.metrics) {
      this.#registry = new Registry();
      this.#processRestarts = new Counter({
        name: "rr_tcp_server_process_restarts_total",
        help: "Server processes (tcp.processes) started again after they exited unasked; each lost its connections.",
        registers: [this.#registry],
      });
      const members = this.#members;
      new Gauge({
        name: "rr_tcp_server_processes",
        help: "Server processes (tcp.processes) running and ready.",
        registers: [this.#registry],
        collect() {
          this.set(members.filter((m) => m.ready && !m.worker.isDead()).length);
        },
      });
    }
    this.pool = {
      state: () => this.#state(),
      restarts: () => this.#totals.restarts(this.#snapshots()),
      cpuPercent: (pid) => {
        for (const snapshot of this.#snapshots()) if (snapshot.cpu[pid] !== undefined) return snapshot.cpu[pid]!;
        return 0;
      },
      reset: async () => {
        if (this.#live().length === 0) throw this.#noProcess();
        // Every process that could reset did; one that could not makes the reset an error.
        const { failures } = await this.#fanOut("reset", (m) => this.#call(m, "reset"));
        if (failures.length > 0) throw failures[0];
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
        const { values } = await this.#fanOut("killBusyWorkers", (m) => this.#call(m, "killBusyWorkers", reason));
        return values.reduce((n, k) => n + k, 0);
      },
    };
    this.server = {
      addresses: () => Object.fromEntries([...this.#listeners].map(([name, listener]) => [name, listener.address])),
      counters: () => this.#totals.counters(this.#snapshots()),
      bufferedBytes: () => this.#snapshots().reduce((n, s) => n + s.buffered, 0),
      retainedBytes: () => this.#snapshots().reduce((n, s) => n + s.retained, 0),
      connections: (server = "") => this.#connections(server),
      write: (uuid, data, close = false) => this.#held((m) => this.#call(m, "write", uuid, data, close, this.#across)),
      closeConnection: async (uuid) => {
        if (this.#across) return this.#call(this.#any(), "close", uuid, true);
        const { values, failures } = await this.#fanOut("close", (m) => this.#call(m, "close", uuid, false));
        if (values.some(Boolean)) return true;
        // "No such connection" only when every process said so: one that did not answer may hold it.
        if (failures.length > 0) throw failures[0];
        return false;
      },
      broadcast: (server, data) => this.#broadcast(server, data),
      reloadCertificates: async () => {
        const { values, failures } = await this.#fanOut("reloadCertificates", (m) =>
          this.#call(m, "reloadCertificates"),
        );
        return [...values.flat(), ...failures.map(errorMessage)];
      },
    };
  }

  /**
   * Starts `tcp.processes` server processes and resolves once every one listens with its
   * workers up. If one cannot start, the others are stopped and its error is thrown (with the
   * config key or the address it named).
   */
  static async start(loaded: LoadedConfig, options: ProcessGroupOptions): Promise<ProcessGroup> {
    const group = new ProcessGroup(loaded, options);
    try {
      await group.#listen();
    } catch (err) {
      await group.#closeListeners();
      throw err;
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
    // Those that came while the processes started are spread over all of them, not all given to
    // the first one ready: long-lived connections stay where they were handed.
    group.#started = true;
    group.#handOutWaiting();
    return group;
  }

  /**
   * Every process's snapshot, asked for after this call: a refresh already running began before
   * it, so the callers that come meanwhile share the one after it. Under any number of requests at
   * most one refresh runs, with one waiting. A process that cannot answer keeps no snapshot.
   */
  refresh(): Promise<void> {
    if (this.#refreshing === undefined) return this.#startRefresh();
    this.#nextRefresh ??= this.#refreshing.then(() => {
      this.#nextRefresh = undefined;
      return this.#startRefresh();
    });
    return this.#nextRefresh;
  }

  #startRefresh(): Promise<void> {
    const refreshing = Promise.all(
      this.#live().map(async (member) => {
        try {
          member.snapshot = await this.#call(member, "snapshot");
        } catch {
          member.snapshot = undefined;
        }
      }),
    ).then(() => {
      if (this.#refreshing === refreshing) this.#refreshing = undefined;
    });
    this.#refreshing = refreshing;
    return refreshing;
  }

  /**
   * Every process's metrics, added up (per-worker series keep their own labels), with what
   * exited processes had counted and the primary's own. A process that does not answer adds
   * the cumulative part of its last answer, so a slow scrape never makes a counter go down.
   */
  async metrics(): Promise<string> {
    const asked = this.#live().map((member) => ({ member, worker: member.worker }));
    const answers = await Promise.all(
      asked.map(async ({ member }): Promise<MetricsJson> => {
        try {
          member.metrics = await this.#call(member, "metrics");
          return member.metrics;
        } catch (err) {
          this.#logger.warn({ process: member.index, err }, `server process ${member.index} gave no metrics`);
          return cumulativeSeries(member.metrics ?? []);
        }
      }),
    );
    // One that exited while the others answered was retired with this very answer: the totals
    // have it now, and counting it here too would count it twice (and the next scrape, once).
    const live = answers.filter((_, i) => asked[i]!.member.worker === asked[i]!.worker && asked[i]!.member.ready);
    if (this.#registry !== undefined) live.push((await this.#registry.getMetricsAsJSON()) as MetricsJson);
    return (await this.#totals.metrics(live)).metrics();
  }

  /** The metrics as /metrics serves them. */
  readonly metricsSource = {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    metrics: () => this.metrics(),
  };

  /**
   * The pids of the processes and of their workers: what a forced exit kills. The workers are
   * each process's children now (from /proc, so also those started since the last snapshot, or
   * still starting) and those of its last snapshot (where there is no /proc).
   */
  pids(): number[] {
    const pids = new Set<number>();
    for (const member of this.#members) {
      const pid = member.worker.process.pid;
      if (pid === undefined) continue;
      pids.add(pid);
      for (const child of childPids(pid)) pids.add(child);
      for (const worker of member.snapshot?.state.workers ?? []) pids.add(worker.pid);
    }
    return [...pids];
  }

  /**
   * Asks every process to stop as one process stops (drain, CLOSE events, workers stopped) and
   * waits for them to exit; after `timeoutMs` plus a grace, kills what is left. Idempotent.
   */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      for (const timer of this.#restarts) clearTimeout(timer);
      this.#restarts.clear();
      // No new connection: each process then drains its own, as one rr-tcp does.
      await this.#closeListeners();
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

  /** Binds every tcp.servers address here, in the primary. @throws ListenError, AddressError */
  async #listen(): Promise<void> {
    for (const [name, server] of Object.entries(this.loaded.config.tcp!.servers)) {
      const listener = await openListener(
        name,
        server.addr,
        parseListenAddress(server.addr),
        (socket) => this.#handOff(name, socket),
        {
          baseDir: this.loaded.baseDir,
          onError: (err) => this.#logger.error({ server: name, err }, "listener error"),
        },
      );
      this.#listeners.set(name, listener);
      this.#logger.info(
        { server: name, addr: listener.address },
        `tcp server ${name} listening on ${listener.address}`,
      );
    }
  }

  async #closeListeners(): Promise<void> {
    await Promise.all([...this.#listeners.values()].map((listener) => listener.close()));
    for (const { socket } of this.#waiting.splice(0)) socket.destroy();
  }

  /**
   * Gives a connection `server`'s listener accepted to the next ready process. While the
   * processes start, and later while none is ready (all of them starting again), it waits, up to
   * LIMITS.connectionsWaiting: past that it is closed, as a full accept queue would refuse it.
   */
  #handOff(server: string, socket: Socket): void {
    socket.on("error", () => undefined);
    if (this.#stopping !== undefined) {
      socket.destroy();
      return;
    }
    const live = this.#live();
    if (live.length === 0 || !this.#started) {
      if (this.#waiting.length >= LIMITS.connectionsWaiting.value) {
        socket.destroy();
        this.#logger.warn(
          { server, waiting: this.#waiting.length },
          `connection refused: no server process is ready and ${describeLimit(LIMITS.connectionsWaiting)} wait already`,
        );
        return;
      }
      this.#waiting.push({ server, socket });
      return;
    }
    // Each in turn, but one still taking in earlier hand-offs (busy, or stopped) waits for them.
    const turn = this.#turn++;
    const start = turn % live.length;
    const member = live
      .map((m, i) => ({ m, order: (i - start + live.length) % live.length }))
      .sort((a, b) => a.m.handing.size - b.m.handing.size || a.order - b.order)[0]!.m;
    const id = this.#nextId++;
    member.handing.set(id, socket);
    // keepOpen: Node would close its copy once the socket is written to the channel, and a process
    // that dies before it takes it in would then hold the only copy of a socket no one reads.
    member.worker.send({ rr: "connection", server, id }, socket, { keepOpen: true }, (err: Error | null) => {
      if (!err) return;
      member.handing.delete(id);
      this.#logger.debug({ process: member.index, server, err }, "a connection could not be handed to its process");
      socket.destroy();
    });
  }

  /** The process has the connection: the primary's copy goes (the connection stays, with the process's). */
  #adopted(member: Member, id: number): void {
    const socket = member.handing.get(id);
    member.handing.delete(id);
    socket?.destroy();
  }

  /** The connections that waited for a ready process, handed out now that one is. */
  #handOutWaiting(): void {
    for (const { server, socket } of this.#waiting.splice(0)) {
      if (socket.destroyed) continue;
      this.#handOff(server, socket);
    }
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
      handing: new Map(),
      metrics: undefined,
      pending: new Map(),
    };
    member.worker = worker;
    member.ready = false;
    member.snapshot = undefined;
    member.metrics = undefined;
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
          this.#logger.info({ process: index, process_pid: worker.process.pid }, `server process ${index} ready`);
          resolve();
          // A replacement, the only one up: those that waited for it are its.
          if (this.#started) this.#handOutWaiting();
        } else if (said.rr === "adopted") {
          this.#adopted(member, said.id);
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
        // Still on their way to it: closed, so their clients see the end, not silence.
        for (const socket of member.handing.values()) socket.destroy();
        member.handing.clear();
        // What it counted stays counted: the totals keep its last report.
        if (wasReady) this.#totals.retire(member.snapshot, member.metrics);
        member.snapshot = undefined;
        member.metrics = undefined;
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
        if (this.#stopping === undefined && (wasReady || member.restarting))
          this.#restart(member, wasReady, code, signal);
      });
    });
  }

  /**
   * A process that exited unasked (`wasReady`: it ran, and its connections are gone), or a
   * replacement that failed its start: a new one takes its share, after the delay.
   */
  #restart(member: Member, wasReady: boolean, code: number | null, signal: string | null): void {
    if (Date.now() - member.startedAt > RESTART_HEALTHY_MS) member.restartDelayMs = RESTART_DELAY_MS;
    const delay = member.restartDelayMs;
    member.restartDelayMs = Math.min(RESTART_DELAY_MAX_MS, delay * 2);
    const how = signal ?? `code ${code}`;
    this.#logger.error(
      { process: member.index, process_pid: member.worker.process.pid, code, signal, restart_in_ms: delay },
      wasReady
        ? `server process ${member.index} exited (${how}); its connections are lost; starting it again`
        : `server process ${member.index} exited (${how}) before it was ready; starting it again`,
    );
    member.restarting = true;
    if (wasReady) this.#processRestarts?.inc();
    // Not unref'd: with no endpoint, this timer is what keeps the primary up while no process runs.
    const timer = setTimeout(() => {
      this.#restarts.delete(timer);
      if (this.#stopping !== undefined) return;
      // A failed start exits too, and that exit schedules the next try.
      this.#fork(member.index).catch((err: unknown) => {
        // A start the stop cut short is no failure to report.
        if (this.#stopping !== undefined) return;
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

  /** The processes that can take calls and connections now. */
  #live(): Member[] {
    return this.#members.filter((m) => m.ready && !m.worker.isDead() && m.worker.isConnected());
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

  /**
   * `call` on every live process at once. A process that exits meanwhile is left out (its part is
   * gone with its connections and workers); one that fails otherwise is logged and counted.
   */
  async #fanOut<T>(what: ProcessOp, call: (member: Member) => Promise<T>): Promise<FanOut<T>> {
    const members = this.#live();
    const settled = await Promise.allSettled(members.map(call));
    const values: T[] = [];
    const failures: Error[] = [];
    for (const [i, outcome] of settled.entries()) {
      if (outcome.status === "fulfilled") {
        values.push(outcome.value);
        continue;
      }
      const err = outcome.reason as Error;
      if (errorCode(err) === "PROCESS_GONE") continue;
      failures.push(err);
      // A refusal every process gives alike (an unknown server) is the caller's, not a failure.
      if (!(err instanceof PushError))
        this.#logger.warn({ process: members[i]!.index, err }, `server process ${members[i]!.index} failed ${what}`);
    }
    // The caller's refusal first: with one process not answering, an unknown server is still a 404.
    failures.sort((a, b) => Number(b instanceof PushError) - Number(a instanceof PushError));
    return { values, failures };
  }

  /** Every process's connections; one that did not answer is left out and logged, unless none answered. */
  async #connections(server: string): Promise<ConnectionInfo[]> {
    if (this.#across) return this.#call(this.#any(), "connections", server, true);
    const { values, failures } = await this.#fanOut("connections", (m) => this.#call(m, "connections", server, false));
    if (values.length === 0 && failures.length > 0) throw failures[0];
    return values.flat().sort(byAge);
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
    // A process that exited meanwhile took its connections with it: it holds none to name.
    const telling = (r: Error): boolean => !["UNKNOWN_CONNECTION", "PROCESS_GONE"].includes(errorCode(r) ?? "");
    throw reasons.find(telling) ?? reasons.find((r) => errorCode(r) === "UNKNOWN_CONNECTION") ?? reasons[0];
  }

  /**
   * Every process's clients of `server`. What reached some processes' clients is not undone when
   * another did not answer: the answer counts those reached (the failure is logged), and is that
   * failure only when none answered, so a caller's retry repeats nothing.
   */
  async #broadcast(server: string, data: Buffer): Promise<BroadcastOutcome> {
    if (this.#across) return this.#call(this.#any(), "broadcast", server, data, true);
    const { values, failures } = await this.#fanOut("broadcast", (m) =>
      this.#call(m, "broadcast", server, data, false),
    );
    if (values.length === 0 && failures.length > 0) throw failures[0];
    return {
      reached: values.reduce((n, o) => n + o.reached, 0),
      refused: values.flatMap((o) => o.refused),
    };
  }
}
