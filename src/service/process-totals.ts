/**
 * The sums the primary of several server processes (tcp.processes) answers with: what its live
 * processes report, plus what the processes that exited had counted. A process replaced after a
 * crash starts counting from zero; without the exited one's share, the totals would go down,
 * and a counter that goes down reads as a reset to Prometheus (rate() then counts the survivors'
 * whole totals again) and as lost traffic to a person.
 *
 * What an exited process had counted is what it last reported (its snapshot or its metrics at the
 * last request that asked for them): a process killed with SIGKILL says nothing more. Only what
 * adds up is kept: counters and histograms, not gauges (its open connections, its workers'
 * memory are gone with it), and no per-worker series (labelled `pid`): its workers are gone too,
 * as a single process drops a replaced worker's series.
 */
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from "prom-client";
import { newServerCounters, type ServerCounters } from "../server/index.js";
import type { ProcessSnapshot } from "./process-messages.js";

/** One registry's metrics, as prom-client's getMetricsAsJSON gives them (what crosses the IPC channel). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** `into` plus `from`, number by number, through nested records. */
export function addInto(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(from)) {
    if (typeof value === "number") into[key] = ((into[key] as number | undefined) ?? 0) + value;
    else if (typeof value === "object" && value !== null) {
      into[key] ??= {};
      addInto(into[key] as Record<string, unknown>, value as Record<string, unknown>);
    }
  }
}

/** The series of `metrics` that keep adding up after their process is gone. */
export function cumulativeSeries(metrics: MetricsJson): MetricsJson {
  const kept: MetricsJson = [];
  for (const metric of metrics) {
    // prom-client's types say an enum; its JSON says "counter", "gauge", "histogram", "summary".
    const type = metric.type as unknown as string;
    if (type !== "counter" && type !== "histogram") continue;
    const values = metric.values.filter((v) => !("pid" in (v.labels ?? {})));
    if (values.length > 0) kept.push({ ...metric, values });
  }
  return kept;
}

export class ProcessTotals {
  readonly #counters: Record<string, ServerCounters> = {};
  readonly #restarts: Record<string, number> = {};
  /** The exited processes' cumulative series: one list per process, summed into one at each scrape. */
  #metrics: MetricsJson[] = [];
  /** A sum of #metrics is being made: another scrape meanwhile reads the lists as they are. */
  #merging = false;

  /** Keeps what a process that exited last reported (either may be missing: it never answered). */
  retire(snapshot: ProcessSnapshot | undefined, metrics: MetricsJson | undefined): void {
    if (snapshot !== undefined) {
      // All but `open`, a gauge: the connections it had open are closed now.
      for (const [name, counters] of Object.entries(snapshot.counters))
        this.#addCounters(this.#counters, name, { ...counters, open: 0 });
      addInto(this.#restarts, snapshot.restarts as Record<string, number>);
    }
    if (metrics !== undefined) {
      const kept = cumulativeSeries(metrics);
      if (kept.length > 0) this.#metrics.push(kept);
    }
  }

  /** Every named server's counters: the live processes' snapshots and the exited ones'. */
  counters(snapshots: readonly ProcessSnapshot[]): Record<string, ServerCounters> {
    const total: Record<string, ServerCounters> = {};
    for (const [name, counters] of Object.entries(this.#counters)) this.#addCounters(total, name, counters);
    for (const snapshot of snapshots) {
      for (const [name, counters] of Object.entries(snapshot.counters)) this.#addCounters(total, name, counters);
    }
    return total;
  }

  /** Worker restarts by cause, in every process that ran. */
  restarts(snapshots: readonly ProcessSnapshot[]): Record<string, number> {
    const total: Record<string, number> = { ...this.#restarts };
    for (const snapshot of snapshots) addInto(total, snapshot.restarts as Record<string, number>);
    return total;
  }

  /** The metrics of the live processes (and any of the primary's own), with the exited ones' cumulative series. */
  async metrics(live: readonly MetricsJson[]): Promise<Registry> {
    if (this.#metrics.length > 1 && !this.#merging) {
      // Summed once, so a primary whose processes keep crashing keeps one list, not one per crash.
      // The lists stay in place while the sum is made, for the scrapes that come meanwhile.
      this.#merging = true;
      try {
        const count = this.#metrics.length;
        const merged = (await AggregatorRegistry.aggregate(
          this.#metrics.slice(0, count),
        ).getMetricsAsJSON()) as MetricsJson;
        // Those retired while the sum was made stay after it.
        this.#metrics.splice(0, count, merged);
      } finally {
        this.#merging = false;
      }
    }
    return AggregatorRegistry.aggregate([...live, ...this.#metrics]);
  }

  #addCounters(into: Record<string, ServerCounters>, name: string, counters: ServerCounters): void {
    into[name] ??= newServerCounters();
    addInto(into[name] as unknown as Record<string, unknown>, counters as unknown as Record<string, unknown>);
  }
}
