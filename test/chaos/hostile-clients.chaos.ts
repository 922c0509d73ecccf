/**
 * Chaos 6: hostile clients against one real `rr-tcp serve` with recording workers. Each case runs
 * a bystander client in a closed loop through its attack (it must keep being answered, losing
 * nothing), then checks that a fresh client is served and that every connection of the case,
 * the bystander's included, got exactly one CLOSE event.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually, within } from "../fixtures/eventually.js";
import { drains, openClient, type Client } from "../server/harness.js";
import {
  allClosed,
  chaosConfig,
  expectOneCloseEach,
  killEverything,
  LoopClient,
  secondsSince,
  serve,
  stopServerCleanly,
  type Served,
} from "./harness.js";
import { record } from "./ledger.js";

const CONFIG = chaosConfig({ workers: 3, allocateTimeout: "30s", destroyTimeout: "5s" });

let served: Served;
beforeAll(async () => {
  served = await serve(CONFIG);
});
afterAll(killEverything);

/** What the attack of a case reports. */
interface Attack {
  faults: number;
  /** Messages the attackers sent that must be answered, and how many were, exactly. */
  sent: number;
  answered: number;
  /** Bytes an attacker received that were not the reply to its own message. */
  wrong: number;
  /** Connections the attack opened (each must get one CLOSE). */
  connections: number;
}

/**
 * Echo lines of each client compared with the messages it sent (`messages[i]` for `clients[i]`),
 * summed over the clients: exact ones, and anything else.
 */
function compareAll(clients: Client[], messages: string[][]): { answered: number; wrong: number } {
  let answered = 0;
  let wrong = 0;
  clients.forEach((client, c) => {
    const lines = client.received().split("\r\n");
    if (lines[lines.length - 1] === "") lines.pop();
    lines.forEach((line, i) => {
      if (line === messages[c]![i]) answered++;
      else wrong++;
    });
  });
  return { answered, wrong };
}

async function hostile(name: string, attack: () => Promise<Attack>): Promise<void> {
  const started = performance.now();
  served.resetPeakRss();
  const from = served.recording.all().length;
  const bystander = new LoopClient(served.port(), "by", { maxBatch: 2 });
  await eventually(() => bystander.tally.answered > 0, { what: "the bystander served before the attack" });
  const before = bystander.tally.answered;
  const result = await attack();
  // Served during the attack, and still served after it.
  const during = bystander.tally.answered - before;
  const afterAttack = bystander.tally.answered;
  await eventually(() => bystander.tally.answered > afterAttack + 10, {
    timeout: 10_000,
    what: "the bystander served after the attack",
  });
  const tally = await bystander.stop();
  await bystander.closed();
  const fresh = await openClient(served.port());
  fresh.socket.write("mfresh\r\n");
  let freshServed = true;
  await fresh.receive("mfresh\r\n", 5_000).catch(() => (freshServed = false));
  fresh.socket.end();
  await within(fresh.closed, { what: "the fresh client's connection closed" });
  const closes = await allClosed(served.recording, result.connections + tally.connections + 1, 20_000, from);
  record({
    case: `6 hostile clients: ${name}`,
    faults: result.faults,
    sent: result.sent + tally.sent + 1,
    answered: result.answered + tally.answered + (freshServed ? 1 : 0),
    cut: tally.cut,
    closed: closes.closed,
    lost: tally.lost + Math.max(0, result.sent - result.answered - result.wrong),
    duplicated: tally.duplicated,
    wrong: tally.wrong + result.wrong,
    outOfOrder: tally.outOfOrder,
    missingClose: closes.missingClose,
    duplicateClose: closes.duplicateClose,
    peakRssMiB: served.watch.peakRssMiB(),
    seconds: secondsSince(started),
  });
  expect(during, "bystander replies during the attack").toBeGreaterThan(0);
  expect(freshServed, "a fresh client served after the attack").toBe(true);
  expect({ sent: result.sent, wrong: result.wrong }).toEqual({ sent: result.answered, wrong: 0 });
  expect(
    {
      lost: tally.lost,
      cut: tally.cut,
      wrong: tally.wrong,
      duplicated: tally.duplicated,
      outOfOrder: tally.outOfOrder,
    },
    tally.samples.join("; "),
  ).toEqual({ lost: 0, cut: 0, wrong: 0, duplicated: 0, outOfOrder: 0 });
  expectOneCloseEach(closes, closes.detail);
}

it("6 slowloris: 200 connections dribbling their messages one byte at a time", async () => {
  await hostile("slowloris (200 conns, 1 byte per 50 ms each)", async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => openClient(served.port())));
    const messages = clients.map((_, i) => [0, 1, 2].map((k) => `ms${i}.${k}`));
    const texts = messages.map((m) => m.map((line) => `${line}\r\n`).join(""));
    // One byte per connection per tick: the attack's own pace.
    for (let at = 0; at < Math.max(...texts.map((t) => t.length)); at++) {
      clients.forEach((c, i) => {
        const byte = texts[i]![at];
        if (byte !== undefined) c.socket.write(byte);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(clients.map((c, i) => c.receive(texts[i]!, 10_000).catch(() => undefined)));
    const result = compareAll(clients, messages);
    for (const c of clients) c.socket.end();
    await Promise.all(clients.map((c) => within(c.closed, { timeout: 10_000, what: "slowloris connections closed" })));
    return { faults: 200, sent: 600, ...result, connections: 200 };
  });
});

it("6 burst: 2,000 connections at once, each one message", async () => {
  await hostile("burst (2,000 conns at once)", async () => {
    const N = 2_000;
    const clients = await Promise.all(Array.from({ length: N }, () => openClient(served.port())));
    clients.forEach((c, i) => c.socket.write(`mb${i}\r\n`));
    await Promise.all(clients.map((c, i) => c.receive(`mb${i}\r\n`, 20_000).catch(() => undefined)));
    const result = compareAll(
      clients,
      clients.map((_, i) => [`mb${i}`]),
    );
    for (const c of clients) c.socket.end();
    await Promise.all(clients.map((c) => within(c.closed, { timeout: 20_000, what: "burst connections closed" })));
    return { faults: N, sent: N, ...result, connections: N };
  });
});

it("6 RST mid-event: 30 connections reset while their slow events are with workers", async () => {
  await hostile("RST mid-event (30 conns, resetAndDestroy)", async () => {
    const from = served.recording.all().length;
    const clients = await Promise.all(Array.from({ length: 30 }, () => openClient(served.port())));
    for (const c of clients) c.socket.write("slow:300\r\n");
    // Every worker has one of them (three), the rest wait in line.
    await served.recording.until(
      (all) => all.slice(from).filter((r) => r.event === "DATA" && r.body === "slow:300\r\n").length >= 3,
      "three slow events with the workers",
    );
    for (const c of clients) c.socket.resetAndDestroy();
    return { faults: 30, sent: 0, answered: 0, wrong: 0, connections: 30 };
  });
});

it("6 half-close: 100 connections send two messages and their FIN at once", async () => {
  await hostile("half-close (100 conns, 2 messages then FIN)", async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => openClient(served.port())));
    const messages = clients.map((_, i) => [`mh${i}.a`, `mh${i}.b`]);
    clients.forEach((c, i) => c.socket.end(messages[i]!.map((m) => `${m}\r\n`).join("")));
    // The replies, then the server's FIN.
    await Promise.all(
      clients.map((c) => within(c.ended, { timeout: 10_000, what: "the server's FIN" }).catch(() => undefined)),
    );
    return { faults: 100, sent: 200, ...compareAll(clients, messages), connections: 100 };
  });
});

it("6 never-reading clients: 10 connections flood messages and never read the replies", async () => {
  await hostile("never read (10 conns flooding, not reading)", async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => openClient(served.port())));
    const line = Buffer.from(`mn${"y".repeat(4000)}\r\n`);
    const batch = Buffer.concat(Array.from({ length: 256 }, () => line)); // 1 MiB of messages
    const stalled = await Promise.all(
      clients.map(async (c) => {
        c.socket.pause();
        // Write until the socket stays full for 500 ms (scaled): the server stopped reading it.
        for (let i = 0; i < 64; i++) if (!c.socket.write(batch) && !(await drains(c.socket, 500))) return true;
        return false;
      }),
    );
    expect(stalled.every(Boolean), "the server stops reading a client that does not read").toBe(true);
    for (const c of clients) c.socket.destroy();
    return { faults: 10, sent: 0, answered: 0, wrong: 0, connections: 10 };
  });
});

it("6 after the attacks: SIGTERM stops the server, no process left", async () => {
  await stopServerCleanly(served, "6 hostile clients: the server's stop after them");
});
