import { once } from "node:events";
import { createServer, connect, type Server, type Socket } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Framing } from "../../gen/ts/rr/tcp/v1/options.js";
import { jsonContextCodec } from "../../src/protocol/index.js";
import {
  Connection,
  CONNECTION_TRANSITIONS,
  ConnectionStateError,
  type CloseReason,
  type ConnectionState,
} from "../../src/server/connection.js";
import type { EventPool, EventReply, EventRequest } from "../../src/server/event-pool.js";
import { createFramer } from "../../src/server/framer.js";
import { eventually } from "../fixtures/eventually.js";

const STATES = Object.keys(CONNECTION_TRANSITIONS) as ConnectionState[];

describe("the connection state table", () => {
  it("closing is one move from every state but closing and done, and only closing leads to done", () => {
    for (const state of STATES.filter((s) => s !== "closing" && s !== "done")) {
      expect(CONNECTION_TRANSITIONS[state]).toContain("closing");
    }
    for (const state of STATES) {
      expect(CONNECTION_TRANSITIONS[state].includes("done")).toBe(state === "closing");
    }
    expect(CONNECTION_TRANSITIONS.closing).toEqual(["done"]);
    expect(CONNECTION_TRANSITIONS.done).toEqual([]);
  });

  it("closes after an event (lastEvent, cutOff) only from states where an event is with a worker", () => {
    const from = (to: ConnectionState) => STATES.filter((s) => CONNECTION_TRANSITIONS[s].includes(to));
    expect(from("lastEvent")).toEqual(["connecting", "waiting"]);
    expect(from("cutOff")).toEqual(["connecting", "waiting", "lastEvent"]);
    expect(from("awaitingDrain")).toEqual(["reading"]);
  });

  it("an illegal move is an RrTcpError naming the connection", () => {
    const err = new ConnectionStateError("0b0e2b4e-0000-4000-8000-000000000000", "done", "reading");
    expect(err).toMatchObject({ code: "ILLEGAL_TRANSITION", uuid: "0b0e2b4e-0000-4000-8000-000000000000" });
    expect(err.message).toContain("from done to reading");
  });
});

/** A pool whose replies the test gives, one event at a time. */
class HandPool implements EventPool {
  readonly events: string[] = [];
  #answer: ((reply: EventReply) => void) | undefined;

  exec(request: EventRequest): Promise<EventReply> {
    const context = JSON.parse(request.context.toString()) as { event: string };
    this.events.push(`${context.event}:${request.body.toString()}`);
    return new Promise((resolve) => (this.#answer = resolve));
  }

  answer(verb: string, body = ""): void {
    const answer = this.#answer;
    this.#answer = undefined;
    answer?.({ context: Buffer.from(verb), body: Buffer.from(body), flags: 0, pid: 1 });
  }
}

describe("Connection", () => {
  let server: Server | undefined;
  let client: Socket | undefined;
  afterEach(async () => {
    client?.destroy();
    server?.close();
    client = undefined;
    server = undefined;
  });

  async function open(): Promise<{
    connection: Connection;
    pool: HandPool;
    received: () => string;
    done: Promise<CloseReason>;
  }> {
    const pool = new HandPool();
    let resolveDone!: (reason: CloseReason) => void;
    const done = new Promise<CloseReason>((resolve) => (resolveDone = resolve));
    let connection!: Connection;
    server = createServer((socket) => {
      connection = new Connection({
        socket,
        server: "test",
        uuid: "3f1c2a9e-0000-4000-8000-000000000000",
        remoteAddr: "",
        pool,
        codec: jsonContextCodec,
        framer: createFramer({
          framing: Framing.DELIMITER,
          delimiter: Buffer.from("\n"),
          lengthBytes: 4,
          maxMessageSize: 1024,
          maxReadSize: 1024,
        }),
        sticky: false,
        idleTimeoutMs: 0,
        logger: pino({ enabled: false }),
        onDone: (_c, reason) => resolveDone(reason),
      });
      connection.start();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    const socket = connect(port, "127.0.0.1");
    client = socket;
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.on("error", () => undefined);
    await eventually(() => pool.events.length === 1, { what: "CONNECTED" });
    return { connection, pool, received: () => text, done };
  }

  it("connecting, reading, waiting, reading; a graceful close waits for the event and writes its reply", async () => {
    const { connection, pool, received, done } = await open();
    expect(pool.events).toEqual(["CONNECTED:"]);
    expect(connection.state).toBe("connecting");
    pool.answer("CONTINUE");
    await eventually(() => connection.state === "reading", { what: "reading" });
    client!.write("one\n");
    await eventually(() => connection.state === "waiting", { what: "the DATA event" });
    expect(pool.events.at(-1)).toBe("DATA:one\n");
    connection.closeWhenIdle();
    expect(connection.state).toBe("lastEvent");
    expect(connection.closeReason).toBeUndefined();
    pool.answer("WRITE", "reply to one");
    await eventually(() => connection.state === "closing", { what: "closing" });
    expect(pool.events.at(-1)).toBe("CLOSE:");
    pool.answer("CLOSE");
    expect(await done).toBe("SHUTDOWN");
    expect(connection.state).toBe("done");
    await eventually(() => received() === "reply to one", { what: "the reply written before the close" });
  });

  it("closeNow while an event is with a worker: cutOff, the reply dropped, then CLOSE", async () => {
    const { connection, pool, received, done } = await open();
    connection.closeNow("CLOSED_BY_SERVER");
    expect(connection.state).toBe("cutOff");
    // Asked again, or gracefully: already on its way out, the first reason stands.
    connection.closeWhenIdle("SHUTDOWN");
    connection.closeNow("IDLE_TIMEOUT");
    expect(connection.state).toBe("cutOff");
    pool.answer("WRITE", "too late");
    await eventually(() => connection.state === "closing", { what: "closing" });
    pool.answer("CLOSE");
    expect(await done).toBe("CLOSED_BY_SERVER");
    expect(connection.closeReason).toBe("CLOSED_BY_SERVER");
    expect(received()).toBe("");
  });

  it("the client's FIN is read from the socket: the last bytes are an event, then CLIENT_EOF", async () => {
    const { connection, pool, done } = await open();
    pool.answer("CONTINUE");
    client!.end("tail without a newline");
    await eventually(() => pool.events.length === 2, { what: "the last DATA event" });
    expect(pool.events.at(-1)).toBe("DATA:tail without a newline");
    expect(connection.state).toBe("waiting");
    pool.answer("CONTINUE");
    await eventually(() => connection.state === "closing", { what: "closing" });
    pool.answer("CLOSE");
    expect(await done).toBe("CLIENT_EOF");
  });
});
