/**
 * Several rr-tcp instances sharing one Redis (config `cluster`, docs/cluster.md): the push
 * methods, tcp.Close and the listing reach the connections of every instance, so a worker never
 * needs to know which instance holds a uuid.
 *
 * In Redis, under `cluster.key_prefix` (P):
 *
 *   P:conn:<uuid>        JSON {instance, server, remote_addr, connected_at}: which instance holds
 *                        the connection; expires after registry_ttl, refreshed every third of it
 *                        while the instance lives, deleted when the connection closes
 *   P:instances          sorted set of the live instances, each scored with the time (ms) its
 *                        entry expires; refreshed with the connections
 *   P:instance:<id>      the pub/sub channel an instance reads: forwarded calls, and the answers
 *                        to the calls it forwarded
 *
 * A call is answered from this instance when the connection is its own. Else tcp.Write,
 * tcp.WriteClose and tcp.Close look the uuid up in the registry and forward the call to its
 * holder, whose answer (its outcome, or its refusal with the same code and message) is the
 * answer; tcp.Broadcast and tcp.List go to every live instance and add up their answers. An
 * instance that has no subscriber on its channel (it died, its entries not yet expired) is
 * skipped at once; one that does not answer within forward_timeout fails a single-connection
 * call (ClusterError FORWARD_TIMEOUT) and is left out of a broadcast or a listing (logged).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { ConnectionInfo } from "../../gen/ts/rr/tcp/v1/control.js";
import type { ClusterOptions } from "../../gen/ts/rr/tcp/v1/options.js";
import { TcpEvent } from "../../gen/ts/rr/tcp/v1/tcp.js";
import { errorMessage } from "../errors.js";
import { defaultMs } from "../options/index.js";
import { contextCodecForFlags, durationToMs } from "../protocol/index.js";
import type { EventPool, EventReply, EventRequest } from "../server/event-pool.js";
import { PushError, type PushErrorCode, type PushOutcome } from "../server/push.js";
import type { ServerCounters } from "../server/server-counters.js";
import { ClusterError } from "./errors.js";

const REDIS_KEY = "cluster.redis";
/** The longest wait for Redis when the instance starts. */
const CONNECT_TIMEOUT_MS = 5_000;
/** The longest a stopping instance waits for Redis to take its last commands. */
const CLOSE_WAIT_MS = 2_000;

/** What the cluster needs of this instance's own TCP servers (a TcpServer has it). */
export interface LocalServer {
  closeConnection(uuid: string): boolean;
  connections(server?: string): ConnectionInfo[];
  write(uuid: string, data: Buffer, close?: boolean): PushOutcome;
  broadcast(server: string, data: Buffer): { reached: number; refused: string[] };
  counters(): Record<string, ServerCounters>;
  bufferedBytes(): number;
  retainedBytes(): number;
}

/** One connection's registry entry. */
export interface RegistryEntry {
  instance: string;
  server: string;
  remote_addr: string;
  /** When it was accepted, ISO 8601. */
  connected_at: string;
}

type Call =
  | { op: "write"; uuid: string; data: string; close: boolean }
  | { op: "close"; uuid: string }
  | { op: "broadcast"; server: string; data: string }
  | { op: "list"; server: string };

type Message =
  | { kind: "call"; id: string; from: string; call: Call }
  | { kind: "answer"; id: string; result?: unknown; error?: { code: string; message: string } };

interface Waiting {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The local side of a forwarded call that the caller should see as this code. */
function isPushCode(code: string): code is PushErrorCode {
  return (
    code === "UNKNOWN_CONNECTION" ||
    code === "UNKNOWN_SERVER" ||
    code === "CONNECTION_CLOSING" ||
    code === "CLIENT_NOT_READING"
  );
}

/** Redis's address without its password, for messages and logs. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

export class Cluster {
  /** This instance's name in the registry. */
  readonly instanceId: string;
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #forwardTimeoutMs: number;
  /** The registry entries of this instance's open connections, by uuid, as written to Redis. */
  readonly #own = new Map<string, string>();
  readonly #waiting = new Map<string, Waiting>();
  /** Which kind of event each context buffer a connection sends is (a connection's three never change). */
  readonly #contexts = new WeakMap<Buffer, { event: TcpEvent; uuid: string } | null>();
  #local: LocalServer | undefined;
  #refresher: NodeJS.Timeout | undefined;
  #closed = false;
  #joined = false;
  #lastRedisError = "";

  private constructor(options: ClusterOptions, commands: Redis, subscriber: Redis, logger: Logger) {
    this.instanceId = options.instance_id || `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.#prefix = options.key_prefix || "rr-tcp";
    this.#ttlMs = durationToMs(options.registry_ttl) || defaultMs("ClusterOptions", "registry_ttl");
    this.#forwardTimeoutMs = durationToMs(options.forward_timeout) || defaultMs("ClusterOptions", "forward_timeout");
    this.#commands = commands;
    this.#subscriber = subscriber;
    this.#logger = logger.child({ instance: this.instanceId });
    for (const redis of [commands, subscriber]) {
      // After the start Redis may go away and come back: ioredis reconnects; said once per cause.
      redis.on("error", (err: Error) => {
        // Before the instance joined, the start's error says it (Cluster.connect).
        if (!this.#joined || err.message === this.#lastRedisError) return;
        this.#lastRedisError = err.message;
        this.#logger.warn({ err, key: REDIS_KEY }, `cluster: Redis: ${err.message}`);
      });
      redis.on("ready", () => {
        if (this.#lastRedisError !== "") this.#logger.info({ key: REDIS_KEY }, "cluster: Redis is back");
        this.#lastRedisError = "";
      });
    }
  }

  /**
   * Connects to cluster.redis and subscribes to this instance's channel.
   * @throws ClusterError REDIS_UNREACHABLE (key `cluster.redis`) when Redis cannot be reached or refuses
   */
  static async connect(options: ClusterOptions, logger: Logger): Promise<Cluster> {
    const url = options.redis;
    // At the start one failed attempt is the answer; once joined, ioredis reconnects for ever.
    let joined = false;
    const open = (): Redis =>
      new Redis(url, {
        lazyConnect: true,
        connectTimeout: CONNECT_TIMEOUT_MS,
        // A command waits for a reconnect once, not forever: a forwarded call then fails.
        maxRetriesPerRequest: 1,
        retryStrategy: (times) => (joined ? Math.min(times * 200, 2_000) : null),
      });
    let commands: Redis;
    let subscriber: Redis;
    try {
      commands = open();
      subscriber = open();
    } catch (err) {
      throw new ClusterError("REDIS_UNREACHABLE", `cluster.redis: ${errorMessage(err)}`, {
        key: REDIS_KEY,
        address: redactedUrl(url),
        cause: err,
      });
    }
    const cluster = new Cluster(options, commands, subscriber, logger);
    let firstError: Error | undefined;
    const noteError = (err: Error): void => {
      firstError ??= err;
    };
    commands.once("error", noteError);
    subscriber.once("error", noteError);
    try {
      await Promise.all([commands.connect(), subscriber.connect()]);
      await subscriber.subscribe(cluster.#channel(cluster.instanceId));
      await cluster.#announce();
    } catch (err) {
      commands.disconnect();
      subscriber.disconnect();
      throw new ClusterError(
        "REDIS_UNREACHABLE",
        `cluster.redis: cannot reach Redis at ${redactedUrl(url)}: ${errorMessage(firstError ?? err)}`,
        { key: REDIS_KEY, address: redactedUrl(url), cause: firstError ?? err },
      );
    }
    joined = true;
    cluster.#joined = true;
    subscriber.on("message", (_channel: string, text: string) => cluster.#received(text));
    return cluster;
  }

  /**
   * `pool` for the TCP servers, noticing each connection's CONNECTED and CLOSE events as they
   * go to a worker: the connection is registered before its worker hears of it, and removed
   * when it closes. Each context buffer is decoded once (a connection's never change).
   */
  tracking(pool: EventPool): EventPool {
    return {
      exec: (request: EventRequest): Promise<EventReply> => {
        this.#notice(request);
        return pool.exec(request);
      },
    };
  }

  /** Starts answering forwarded calls from `local`, and refreshing the registry. */
  serve(local: LocalServer): void {
    this.#local = local;
    const every = Math.max(100, Math.floor(this.#ttlMs / 3));
    this.#refresher = setInterval(() => void this.#refresh(), every);
    this.#refresher.unref();
    void this.#refresh();
  }

  /** The cluster as the control API and the RPC methods see the servers (ControlledServer). */
  server(local: LocalServer): LocalServerAcrossCluster {
    return new LocalServerAcrossCluster(this, local);
  }

  /** Removes this instance's entries and leaves Redis. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#refresher);
    for (const [id, waiting] of this.#waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(new ClusterError("FORWARD_FAILED", "cluster: this instance is stopping"));
      this.#waiting.delete(id);
    }
    // Bounded: with Redis gone, the entries expire by themselves and the stop must not wait.
    const bounded = <T>(work: Promise<T>): Promise<T | undefined> => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), CLOSE_WAIT_MS)));
      return Promise.race([work, late]).finally(() => clearTimeout(timer));
    };
    try {
      const batch = this.#commands.multi();
      for (const uuid of this.#own.keys()) batch.del(this.#connKey(uuid));
      batch.zrem(this.#instancesKey(), this.instanceId);
      await bounded(batch.exec());
    } catch (err) {
      this.#logger.warn({ err }, `cluster: could not remove this instance's registry entries: ${errorMessage(err)}`);
    }
    this.#own.clear();
    await bounded(Promise.allSettled([this.#subscriber.quit(), this.#commands.quit()]));
    this.#subscriber.disconnect();
    this.#commands.disconnect();
  }

  /** The registry entry of a connection, wherever it is; undefined when none has the uuid. */
  async lookup(uuid: string): Promise<RegistryEntry | undefined> {
    let text: string | null;
    try {
      text = await this.#commands.get(this.#connKey(uuid));
    } catch (err) {
      throw new ClusterError("FORWARD_FAILED", `cluster: cannot read the registry: ${errorMessage(err)}`, {
        uuid,
        key: REDIS_KEY,
        cause: err,
      });
    }
    return text === null ? undefined : (JSON.parse(text) as RegistryEntry);
  }

  /** The other live instances, by the registry. */
  async others(): Promise<string[]> {
    try {
      const live = await this.#commands.zrangebyscore(this.#instancesKey(), Date.now(), "+inf");
      return live.filter((id) => id !== this.instanceId);
    } catch (err) {
      throw new ClusterError("FORWARD_FAILED", `cluster: cannot read the registry: ${errorMessage(err)}`, {
        key: REDIS_KEY,
        cause: err,
      });
    }
  }

  /**
   * Runs `call` on `instance` and resolves with its answer; rejects with its refusal (a PushError
   * of the same code) or a ClusterError. `gone` answers for an instance that nobody listens for.
   */
  async forward(instance: string, call: Call, gone: () => unknown): Promise<unknown> {
    const id = randomUUID();
    const message: Message = { kind: "call", id, from: this.instanceId, call };
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(
          new ClusterError(
            "FORWARD_TIMEOUT",
            `cluster: instance ${instance} did not answer ${call.op} within cluster.forward_timeout (${this.#forwardTimeoutMs} ms)`,
            { instance, uuid: "uuid" in call ? call.uuid : undefined, key: "cluster.forward_timeout" },
          ),
        );
      }, this.#forwardTimeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
    });
    let listeners: number;
    try {
      listeners = await this.#commands.publish(this.#channel(instance), JSON.stringify(message));
    } catch (err) {
      this.#settle(id);
      throw new ClusterError("FORWARD_FAILED", `cluster: cannot reach instance ${instance}: ${errorMessage(err)}`, {
        instance,
        cause: err,
      });
    }
    if (listeners === 0) {
      this.#settle(id);
      return gone();
    }
    return answer;
  }

  /** Forgets a call that will not be answered. */
  #settle(id: string): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.#waiting.delete(id);
    waiting.resolve(undefined);
  }

  /** The other instances' answers to `call`, each that answered; the others are logged and left out. */
  async everyOther(call: Call): Promise<unknown[]> {
    const others = await this.others();
    const answers = await Promise.allSettled(others.map((id) => this.forward(id, call, () => undefined)));
    const results: unknown[] = [];
    answers.forEach((answer, i) => {
      if (answer.status === "fulfilled") {
        if (answer.value !== undefined) results.push(answer.value);
      } else if (answer.reason instanceof PushError) {
        // UNKNOWN_SERVER there: an instance with other servers than this one's has no such clients.
      } else {
        this.#logger.warn(
          { err: answer.reason, other: others[i], op: call.op },
          `cluster: ${call.op} left out instance ${others[i]}: ${errorMessage(answer.reason)}`,
        );
      }
    });
    return results;
  }

  #notice(request: EventRequest): void {
    let seen = this.#contexts.get(request.context);
    if (seen === undefined) {
      seen = null;
      try {
        const context = contextCodecForFlags(request.flags).decode(request.context);
        seen = { event: context.event, uuid: context.uuid };
        if (context.event === TcpEvent.CONNECTED) {
          this.#register(context.uuid, context.server, context.remote_addr, Date.now());
        }
      } catch {
        // Not a context this instance can read: the connection is found by the next refresh.
      }
      this.#contexts.set(request.context, seen);
    }
    if (seen !== null && seen.event === TcpEvent.CLOSE) this.#unregister(seen.uuid);
  }

  #register(uuid: string, server: string, remoteAddr: string, acceptedAt: number): void {
    if (this.#closed || this.#own.has(uuid)) return;
    const entry: RegistryEntry = {
      instance: this.instanceId,
      server,
      remote_addr: remoteAddr,
      connected_at: new Date(acceptedAt).toISOString(),
    };
    const text = JSON.stringify(entry);
    this.#own.set(uuid, text);
    this.#commands.set(this.#connKey(uuid), text, "PX", this.#ttlMs).catch(() => undefined);
  }

  #unregister(uuid: string): void {
    if (!this.#own.delete(uuid) || this.#closed) return;
    this.#commands.del(this.#connKey(uuid)).catch(() => undefined);
  }

  /** Rewrites this instance's entries with a fresh expiry, after checking them against the open connections. */
  async #refresh(): Promise<void> {
    if (this.#closed) return;
    const local = this.#local;
    if (local !== undefined) {
      const open = new Map(local.connections().map((c) => [c.uuid, c]));
      for (const uuid of [...this.#own.keys()]) if (!open.has(uuid)) this.#unregister(uuid);
      const now = Date.now();
      for (const [uuid, c] of open) {
        if (!this.#own.has(uuid)) this.#register(uuid, c.server, c.remote_addr, now - durationMsOf(c));
      }
    }
    try {
      const batch = this.#commands.multi();
      for (const [uuid, text] of this.#own) batch.set(this.#connKey(uuid), text, "PX", this.#ttlMs);
      batch.zadd(this.#instancesKey(), Date.now() + this.#ttlMs, this.instanceId);
      batch.zremrangebyscore(this.#instancesKey(), "-inf", Date.now());
      await batch.exec();
    } catch (err) {
      this.#logger.warn({ err }, `cluster: could not refresh the registry: ${errorMessage(err)}`);
    }
  }

  async #announce(): Promise<void> {
    await this.#commands.zadd(this.#instancesKey(), Date.now() + this.#ttlMs, this.instanceId);
  }

  #received(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      this.#logger.warn({ bytes: text.length }, "cluster: a message on this instance's channel is not JSON; ignored");
      return;
    }
    if (message.kind === "answer") {
      const waiting = this.#waiting.get(message.id);
      if (!waiting) return; // timed out already
      clearTimeout(waiting.timer);
      this.#waiting.delete(message.id);
      if (message.error) {
        const { code, message: why } = message.error;
        waiting.reject(
          isPushCode(code) ? new PushError(code, why) : new ClusterError("FORWARD_FAILED", `cluster: ${why}`),
        );
      } else waiting.resolve(message.result);
      return;
    }
    if (message.kind === "call") void this.#answer(message);
  }

  async #answer(message: Extract<Message, { kind: "call" }>): Promise<void> {
    let answer: Message;
    try {
      answer = { kind: "answer", id: message.id, result: this.#run(message.call) };
    } catch (err) {
      const code = err instanceof PushError ? err.code : "INTERNAL";
      answer = { kind: "answer", id: message.id, error: { code, message: errorMessage(err) } };
    }
    try {
      await this.#commands.publish(this.#channel(message.from), JSON.stringify(answer));
    } catch (err) {
      this.#logger.warn({ err, other: message.from }, `cluster: could not answer instance ${message.from}`);
    }
  }

  /** A forwarded call, run on this instance's own connections. */
  #run(call: Call): unknown {
    const local = this.#local;
    if (local === undefined) throw new ClusterError("FORWARD_FAILED", `instance ${this.instanceId} is starting`);
    switch (call.op) {
      case "write":
        return local.write(call.uuid, Buffer.from(call.data, "base64"), call.close);
      case "close":
        return local.closeConnection(call.uuid);
      case "broadcast":
        return local.broadcast(call.server, Buffer.from(call.data, "base64"));
      case "list":
        return local.connections(call.server).map((c) => ConnectionInfo.toJSON({ ...c, instance: this.instanceId }));
    }
  }

  #connKey(uuid: string): string {
    return `${this.#prefix}:conn:${uuid}`;
  }

  #instancesKey(): string {
    return `${this.#prefix}:instances`;
  }

  #channel(instance: string): string {
    return `${this.#prefix}:instance:${instance}`;
  }
}

function durationMsOf(c: ConnectionInfo): number {
  return durationToMs(c.age);
}

/**
 * The servers of this instance, reaching across the cluster: what the RPC methods and the
 * control API are given instead of the TcpServer (they keep their one implementation of each
 * method). Counters and buffers stay this instance's own.
 */
export class LocalServerAcrossCluster {
  constructor(
    private readonly cluster: Cluster,
    private readonly local: LocalServer,
  ) {}

  counters(): Record<string, ServerCounters> {
    return this.local.counters();
  }

  bufferedBytes(): number {
    return this.local.bufferedBytes();
  }

  retainedBytes(): number {
    return this.local.retainedBytes();
  }

  /** tcp.Write / tcp.WriteClose: here when the connection is this instance's, else at its holder. */
  async write(uuid: string, data: Buffer, close = false): Promise<PushOutcome> {
    try {
      return this.local.write(uuid, data, close);
    } catch (err) {
      if (!(err instanceof PushError) || err.code !== "UNKNOWN_CONNECTION") throw err;
      const holder = await this.#holder(uuid);
      if (holder === undefined) throw unknownInCluster(uuid);
      const outcome = await this.cluster.forward(
        holder,
        { op: "write", uuid, data: data.toString("base64"), close },
        () => {
          throw unknownInCluster(uuid, holder);
        },
      );
      return outcome as PushOutcome;
    }
  }

  /** tcp.Close: here when the connection is this instance's, else at its holder; false when none has it. */
  async closeConnection(uuid: string): Promise<boolean> {
    if (this.local.closeConnection(uuid)) return true;
    const holder = await this.#holder(uuid);
    if (holder === undefined) return false;
    return (await this.cluster.forward(holder, { op: "close", uuid }, () => false)) === true;
  }

  /** tcp.Broadcast: this instance's clients of `server`, and every other live instance's. */
  async broadcast(server: string, data: Buffer): Promise<{ reached: number; refused: string[] }> {
    const here = this.local.broadcast(server, data); // throws UNKNOWN_SERVER for a name not in tcp.servers
    const there = await this.cluster.everyOther({ op: "broadcast", server, data: data.toString("base64") });
    let reached = here.reached;
    const refused = [...here.refused];
    for (const answer of there as { reached: number; refused: string[] }[]) {
      reached += answer.reached;
      refused.push(...answer.refused);
    }
    return { reached, refused };
  }

  /** tcp.List: every live instance's open connections, oldest first. */
  async connections(server?: string): Promise<ConnectionInfo[]> {
    const only = server ?? "";
    const here = this.local.connections(only).map((c) => ({ ...c, instance: this.cluster.instanceId }));
    const there = (await this.cluster.everyOther({ op: "list", server: only })) as unknown[][];
    const all = [...here, ...there.flat().map((c) => ConnectionInfo.fromJSON(c))];
    return all.sort((a, b) => durationToMs(b.age) - durationToMs(a.age));
  }

  /** The instance the registry says holds `uuid`, when it is another one. */
  async #holder(uuid: string): Promise<string | undefined> {
    const entry = await this.cluster.lookup(uuid);
    if (entry === undefined || entry.instance === this.cluster.instanceId) return undefined;
    return entry.instance;
  }
}

function unknownInCluster(uuid: string, gone?: string): PushError {
  const why = gone ? ` (the registry names instance ${gone}, which is gone)` : "";
  return new PushError("UNKNOWN_CONNECTION", `no open connection has uuid ${uuid} on any instance${why}`, { uuid });
}
