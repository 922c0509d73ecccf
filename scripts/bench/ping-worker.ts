/**
 * The worker of the redis-benchmark rows, written with the worker SDK: an inline `PING` line
 * answers `+PONG`. redis-benchmark first sends CONFIG GET as a RESP array, one line per part
 * (rr-tcp gives each line its own DATA event): `*` and `$` lines get no reply, any other line
 * an error, so it reads "could not fetch the config" and goes on.
 */
import { serve, TcpEvent, TcpResponse } from "../../src/worker/index.js";

const PONG = Buffer.from("+PONG\r\n");
const ERR = Buffer.from("-ERR only PING\r\n");

await serve((request) => {
  if (request.event !== TcpEvent.Data) return undefined; // CONNECTED and CLOSE: CONTINUE
  const body = request.body;
  if (body.length === 6 && body.toString("latin1") === "PING\r\n") return PONG;
  if (body[0] === 0x2a /* * */ || body[0] === 0x24 /* $ */) return TcpResponse.Read;
  return ERR;
});
