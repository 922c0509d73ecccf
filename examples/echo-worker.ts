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
      if (withoutDelimiter(request.body) === "quit") {
        return { verb: TcpResponse.RespondClose, body: "bye\r\n" };
      }
      return request.body;
    default:
      return undefined;
  }
}

// The server keeps the delimiter on a message; a `\r\n` or `\n` line ending is what telnet and
// netcat send.
function withoutDelimiter(body: Buffer): string {
  return body.toString("utf8").replace(/\r?\n$/, "");
}

await serve(echo);
