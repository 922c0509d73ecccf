/**
 * The primary's totals over its server processes (src/service/process-totals.ts): what an exited
 * process had counted stays in them, what it measured (gauges, its workers' series) does not.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { newServerCounters, type ServerCounters } from "../../src/server/index.js";
import type { ProcessSnapshot } from "../../src/service/process-messages.js";
import { cumulativeSeries, ProcessTotals, type MetricsJson } from "../../src/service/process-totals.js";

/** One process's registry: a counter, a per-worker counter, a gauge and a histogram, at `n`. */
async function processMetrics(n: number): Promise<MetricsJson> {
  const registry = new Registry();
  new Counter({ name: "events_total", help: "h", registers: [registry] }).inc(n);
  new Counter({ name: "worker_execs", help: "h", labelNames: ["pid"], registers: [registry] }).inc({ pid: "7" }, n);
  new Gauge({ name: "open", help: "h", registers: [registry] }).set(n);
  new Histogram({ name: "seconds", help: "h", buckets: [1], registers: [registry] }).observe(0.5);
  return (await registry.getMetricsAsJSON()) as MetricsJson;
}

function snapshot(accepted: number, open: number, restarts: number): ProcessSnapshot {
  const counters: ServerCounters = { ...newServerCounters(), accepted, open };
  counters.events.data = accepted * 2;
  return {
    state: { workers: [], queued: 0 },
    restarts: { exited: restarts },
    cpu: {},
    counters: { main: counters },
    buffered: 0,
    retained: 0,
  };
}

const value = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("cumulativeSeries", () => {
  it("keeps counters and histograms, drops gauges and series labelled pid", async () => {
    const kept = cumulativeSeries(await processMetrics(3));
    expect(kept.map((m) => m.name).sort()).toEqual(["events_total", "seconds"]);
  });
});

describe("ProcessTotals", () => {
  it("adds the exited processes' counters to the live ones', but not the connections they had open", () => {
    const totals = new ProcessTotals();
    totals.retire(snapshot(5, 2, 1), undefined);
    const counters = totals.counters([snapshot(3, 1, 0)]).main!;
    expect([counters.accepted, counters.events.data, counters.open]).toEqual([8, 16, 1]);
    expect(totals.restarts([snapshot(3, 1, 2)])).toEqual({ exited: 3 });
  });

  it("keeps nothing of a process that never reported", () => {
    const totals = new ProcessTotals();
    totals.retire(undefined, undefined);
    expect(totals.counters([])).toEqual({});
  });

  it("sums the cumulative series of any number of exited processes with the live ones', scrape after scrape", async () => {
    const totals = new ProcessTotals();
    for (const n of [1, 2, 4]) totals.retire(undefined, await processMetrics(n));
    const live = await processMetrics(10);
    for (let scrape = 0; scrape < 2; scrape++) {
      // The second scrape reads the exited ones' sum as the first left it: nothing counted twice.
      const text = await (await totals.metrics([live])).metrics();
      expect(value(text, "events_total")).toBe(17);
      expect(value(text, "seconds_count")).toBe(4);
      expect(value(text, 'worker_execs{pid="7"}')).toBe(10);
      expect(value(text, "open")).toBe(10);
    }
    totals.retire(undefined, await processMetrics(100));
    expect(value(await (await totals.metrics([])).metrics(), "events_total")).toBe(107);
  });
});

describe("ProcessTotals under scrapes at once", () => {
  it("counts the exited processes in every scrape, also those made while their lists are summed", async () => {
    const totals = new ProcessTotals();
    for (const n of [1, 2]) totals.retire(undefined, await processMetrics(n));
    const live = await processMetrics(10);
    const texts = await Promise.all(Array.from({ length: 4 }, async () => (await totals.metrics([live])).metrics()));
    expect(texts.map((text) => value(text, "events_total"))).toEqual([13, 13, 13, 13]);
  });
});
