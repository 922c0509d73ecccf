/**
 * Graceful shutdown end to end (docs/behaviour.md#shutdown): every connection gets exactly one
 * CLOSE event, also when a worker hangs in its event, and stop() keeps to destroy_timeout. Its own
 * service: the test stops it.
 */
import { afterEach, expect, it } from "vitest";
import { within } from "../fixtures/eventually.js";
import { openClient } from "../server/harness.js";
import { startService, type RunningService } from "./harness.js";

const DESTROY_TIMEOUT_MS = 2_000;

const CONFIG = `
version: "3"
server:
  command: \${WORKER_CMD}
  env:
    RECORD_FILE: \${RECORD_FILE}
tcp:
  servers:
    main: { addr: "127.0.0.1:0", delimiter: "\\r\\n" }
  pool:
    num_workers: 2
    allocate_timeout: 20s
    destroy_timeout: ${DESTROY_TIMEOUT_MS}ms
`;

let rr: RunningService | undefined;
afterEach(async () => {
  await rr?.stop();
  rr = undefined;
});

it("SIGTERM's stop with one worker hung in an event: both connections get their one CLOSE, within destroy_timeout", async () => {
  rr = await startService(CONFIG);
  const running = rr;
  const busy = await openClient(running.port("main"));
  const busyUuid = await running.recording.uuidOf(busy.socket.localPort);
  const idle = await openClient(running.port("main"));
  const idleUuid = await running.recording.uuidOf(idle.socket.localPort);
  busy.socket.write("hang\r\n");
  await running.recording.until(
    (all) => all.some((r) => r.uuid === busyUuid && r.event === "DATA"),
    "the hanging event with a worker",
  );
  // The whole stop within destroy_timeout, and a margin for the workers' exits.
  await within(running.service.stop(), { timeout: DESTROY_TIMEOUT_MS + 1_000, what: "stop() to resolve" });
  expect(running.recording.log(idleUuid)).toEqual(["CONNECTED", "CLOSE"]);
  expect(running.recording.log(busyUuid)).toEqual(["CONNECTED", "DATA:hang\r\n", "CLOSE"]);
  await within(busy.ended, { what: "the busy client's socket closed" });
  await within(idle.ended, { what: "the idle client's FIN" });
});
