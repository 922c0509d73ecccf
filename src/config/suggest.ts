/**
 * "Did you mean …?" for a mistyped config key: the known key closest to it by edit distance.
 * Typos in keys are mostly one or two slips (a missing `s`, two swapped letters, `-` for `_`), so
 * a candidate counts as close when it is at most about a third of the longer key's length away:
 * `tpc` -> `tcp`, `sever` -> `server`, `num_worker` -> `num_workers`, but `app` never becomes `rpc`.
 */

/**
 * Optimal string alignment distance (Damerau-Levenshtein where each character is edited at most
 * once): insertions, deletions, substitutions and swaps of two adjacent characters each cost 1.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rows of the dynamic-programming table: two back (for swaps), one back, and this one.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}

/** The largest distance at which `candidate` still counts as what `key` meant. */
export function suggestionLimit(key: string, candidate: string): number {
  return Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3));
}

/**
 * The candidate closest to `key` (case-insensitively) within {@link suggestionLimit}, the first
 * of equally close ones; undefined when none is close.
 */
export function closestKey(key: string, candidates: Iterable<string>): string | undefined {
  const wanted = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= suggestionLimit(key, candidate) && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
