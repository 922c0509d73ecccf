/**
 * The chat room of examples/cluster: every client of the server "chat", on whichever rr-tcp
 * instance HAProxy sent it to, is in one room. A line from one client reaches all of them through
 * tcp.Broadcast, which the cluster section carries to every instance; each name's message count
 * lives in Redis, so a client that reconnects (to either instance) finds its count again.
 *
 *   /nick NAME   take a name (its count comes back with it)
 *   /who         how many are in the room, on which instances (tcp.List across the cluster)
 *   anything     said to the room: "[NAME #count via INSTANCE] text"
 *
 * Run by examples/cluster/run.sh, under rr-tcp (RR_RPC names the instance's RPC; REDIS_URL the
 * shared Redis; INSTANCE the instance's name).
 */
import { Redis } from "ioredis";
import { RpcClient, serve, TcpEvent, TcpResponse } from "../../src/worker/index.js";

const instance = process.env.INSTANCE ?? "?";
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6380");
redis.on("error", (err: Error) => console.error(`chat worker: Redis: ${err.message}`));
let rpc: RpcClient | undefined;

/** A connection's name: the one it took, else guest-<the start of its uuid>. */
async function nameOf(uuid: string): Promise<string> {
  return (await redis.get(`chat:nick:${uuid}`)) ?? `guest-${uuid.slice(0, 8)}`;
}

await serve(
  async (request) => {
    const uuid = request.connectionUuid;
    switch (request.event) {
      case TcpEvent.Connected:
        return {
          verb: TcpResponse.Respond,
          body: `welcome to the room (instance ${instance}, you are ${request.remoteAddress}); /nick NAME, /who, or say something\r\n`,
        };
      case TcpEvent.Close:
        await redis.del(`chat:nick:${uuid}`);
        return undefined;
      case TcpEvent.Data: {
        const text = request.body.toString("utf8").trim();
        if (text === "") return undefined;
        const nick = /^\/nick\s+(\S{1,32})$/.exec(text);
        if (nick) {
          await redis.set(`chat:nick:${uuid}`, nick[1]!, "EX", 86_400);
          const count = Number((await redis.get(`chat:count:${nick[1]}`)) ?? 0);
          return `you are ${nick[1]}; ${count} messages sent under that name so far\r\n`;
        }
        rpc ??= await RpcClient.connect();
        if (text === "/who") {
          const { connections } = await rpc.list("chat");
          return `${connections.length} in the room\r\n`;
        }
        const name = await nameOf(uuid);
        const count = await redis.incr(`chat:count:${name}`);
        // To every client of "chat" on every instance, the sender too (after this event's CONTINUE).
        await rpc.broadcast("chat", `[${name} #${count} via ${instance}] ${text}\r\n`);
        return undefined;
      }
    }
    return undefined;
  },
  { mode: "event-loop" },
);
rpc?.close();
redis.disconnect();
