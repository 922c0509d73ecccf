/**
 * Global setup of the chaos suite (vitest.chaos.config.ts): clears the ledger before the run,
 * prints its table after it (also when cases failed) and writes it to results.md outside git.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { RESULTS_FILE, CHAOS_DIR, resetLedger, rows, table } from "./ledger.js";

export function setup(): () => void {
  resetLedger();
  const started = Date.now();
  return () => {
    const text = `${table(rows())}\n\nrun time ${((Date.now() - started) / 1000).toFixed(1)} s, ${new Date().toISOString()}\n`;
    mkdirSync(CHAOS_DIR, { recursive: true });
    writeFileSync(RESULTS_FILE, text);
    process.stdout.write(`\nrr-tcp chaos suite (${RESULTS_FILE}):\n\n${text}\n`);
  };
}
