/**
 * The echo worker, the default worker of `npm start`, written with the worker SDK as any
 * application would be. Run it under rr-tcp or RoadRunner (`server.command`):
 *
 *   node --import tsx examples/echo-worker.ts
 *
 * CONNECTED: keep reading. DATA: write the same bytes back; `quit` (with or without its
 * delimiter) answers `bye` and closes. CLOSE: acknowledged (serve() answers it when the handler
 * returns nothing).
 */
import { serve, TcpEvent, TcpResponse, type Request, type Reply } from "../src/worker/index.js";

function echo(request: Request): Reply {
  switch (request.event) {
    case TcpEvent.Connected:
      return TcpResponse.Read;
    case TcpEvent.Data:
      if (isQuit(request.body)) return { verb: TcpResponse.RespondClose, body: "bye\r\n" };
      return request.body;
    default:
      return undefined;
  }
}

const QUIT = Buffer.from("quit");

// `quit` with or without its line ending: the server keeps the delimiter on a message, and a
// `\r\n` or `\n` line ending is what telnet and netcat send. Compared as bytes, so an echo
// costs no string.
function isQuit(body: Buffer): boolean {
  let end = body.length;
  if (body[end - 1] === 0x0a) end -= body[end - 2] === 0x0d ? 2 : 1;
  return end === QUIT.length && QUIT.compare(body, 0, end) === 0;
}

await serve(echo);
