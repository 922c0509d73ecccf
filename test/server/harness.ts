/**
 * Test harness for the server: an in-test pool that records every event and answers from a
 * script, and a small TCP client. No worker processes: the server depends on EventPool only.
 */
import { connect, type Socket } from "node:net";
import { contextCodecForFlags, eventName, verbBytes } from "../../src/protocol/index.js";
import { TcpResponse } from "../../gen/ts/rr/tcp/v1/tcp.js";
import type { EventPool, EventReply, EventRequest } from "../../src/server/event-pool.js";
import { scaled, within } from "../fixtures/eventually.js";

export interface RecordedEvent {
  uuid: string;
  server: string;
  remote_addr: string;
  event: string;
  body: string;
  flags: number;
  preferPid: number | undefined;
  /** The context buffer as received (identity checks). */
  context: Buffer;
}

export type Answer = { verb: TcpResponse | string; body?: string; pid?: number } | Error;
export type Script = (event: RecordedEvent) => Answer | Promise<Answer>;

/** Writes back DATA bodies, continues on CONNECTED, acknowledges CLOSE. */
export const echoScript: Script = (e) =>
  e.event === "DATA" ? { verb: TcpResponse.WRITE, body: e.body } : { verb: TcpResponse.CONTINUE };

export class RecordingPool implements EventPool {
  readonly events: RecordedEvent[] = [];
  /** Most events of one connection with the pool at once. */
  maxInFlightPerConnection = 0;
  readonly #inFlight = new Map<string, number>();
  readonly #listeners = new Set<() => void>();

  constructor(public script: Script = echoScript) {}

  async exec(request: EventRequest): Promise<EventReply> {
    const context = contextCodecForFlags(request.flags).decode(request.context);
    const event: RecordedEvent = {
      uuid: context.uuid,
      server: context.server,
      remote_addr: context.remote_addr,
      event: eventName(context.event),
      body: request.body.toString("latin1"),
      flags: request.flags,
      preferPid: request.preferPid,
      context: request.context,
    };
    const inFlight = (this.#inFlight.get(event.uuid) ?? 0) + 1;
    this.#inFlight.set(event.uuid, inFlight);
    this.maxInFlightPerConnection = Math.max(this.maxInFlightPerConnection, inFlight);
    this.events.push(event);
    for (const listener of this.#listeners) listener();
    try {
      const answer = await this.script(event);
      if (answer instanceof Error) throw answer;
      const verb = typeof answer.verb === "string" ? Buffer.from(answer.verb) : verbBytes(answer.verb);
      return { context: verb, body: Buffer.from(answer.body ?? "", "latin1"), flags: 0, pid: answer.pid ?? 1 };
    } finally {
      this.#inFlight.set(event.uuid, (this.#inFlight.get(event.uuid) ?? 1) - 1);
    }
  }

  /** Events of one connection, as `EVENT:body` strings. */
  log(uuid: string): string[] {
    return this.events.filter((e) => e.uuid === uuid).map((e) => (e.body ? `${e.event}:${e.body}` : e.event));
  }

  /** Resolves once `predicate` holds (checked on every event), or fails after `ms` (scaled). */
  until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
    if (predicate()) return Promise.resolve();
    let check = () => {};
    const held = new Promise<void>((resolve) => {
      check = () => {
        if (predicate()) resolve();
      };
      this.#listeners.add(check);
    });
    return within(held, {
      timeout: ms,
      what,
      detail: () => `events: ${JSON.stringify(this.events.map((e) => [e.uuid.slice(0, 8), e.event, e.body]))}`,
    }).finally(() => this.#listeners.delete(check));
  }

  /** The uuid of the n-th connection to send CONNECTED (0-based). */
  async connectionAt(index: number): Promise<string> {
    await this.until(() => this.events.filter((e) => e.event === "CONNECTED").length > index, `connection #${index}`);
    return this.events.filter((e) => e.event === "CONNECTED")[index]!.uuid;
  }

  /** Resolves once the connection's CLOSE event arrived. */
  async closed(uuid: string): Promise<string[]> {
    await this.until(() => this.events.some((e) => e.uuid === uuid && e.event === "CLOSE"), `CLOSE of ${uuid}`);
    return this.log(uuid);
  }
}

/** A test client: everything it received, and its socket's ends. */
export interface Client {
  socket: Socket;
  received(): string;
  /** Resolves when the server's FIN arrived. */
  ended: Promise<void>;
  /** Resolves when the socket closed (with or without error). */
  closed: Promise<void>;
  /** Resolves once `text` was received in total; fails after `ms` (scaled). */
  receive(text: string, ms?: number): Promise<void>;
}

export async function openClient(port: number, host = "127.0.0.1"): Promise<Client> {
  const socket = connect({ port, host, allowHalfOpen: true });
  let data = "";
  const waiters = new Set<() => void>();
  socket.on("data", (chunk: Buffer) => {
    data += chunk.toString("latin1");
    for (const w of waiters) w();
  });
  socket.on("error", () => undefined);
  const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  return {
    socket,
    received: () => data,
    ended,
    closed,
    receive(text, ms = 5000) {
      if (data.includes(text)) return Promise.resolve();
      let check = () => {};
      const arrived = new Promise<void>((resolve) => {
        check = () => {
          if (data.includes(text)) resolve();
        };
        waiters.add(check);
      });
      return within(arrived, {
        timeout: ms,
        what: JSON.stringify(text),
        detail: () => `got ${JSON.stringify(data)}`,
      }).finally(() => waiters.delete(check));
    },
  };
}

/** The port of a `host:port` address. */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

/**
 * Resolves true once `socket` has drained, false if it has not after `ms` (scaled): then the peer
 * has stopped reading. For showing that something does NOT happen, as `quiet` is.
 */
export function drains(socket: Socket, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      socket.off("drain", onDrain);
      resolve(false);
    }, scaled(ms));
    const onDrain = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once("drain", onDrain);
  });
}
