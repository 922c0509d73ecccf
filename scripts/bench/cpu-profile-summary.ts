/**
 * Prints where a `node --cpu-prof` profile spent its time: self time per function, heaviest
 * first. Usage: npx tsx scripts/bench/cpu-profile-summary.ts FILE.cpuprofile [top=25]
 */
import { readFileSync } from "node:fs";

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: cpu-profile-summary FILE.cpuprofile [top]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || "(anonymous)"} ${url.replace(/^.*\/(node_modules|src|gen|examples)\//, "$1/")}:${lineNumber + 1}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
});
const rows = [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25));
console.log(`total ${(total / 1000).toFixed(0)} ms`);
for (const [key, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
