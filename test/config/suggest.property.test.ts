/**
 * The "did you mean" of unknown config keys: the distance is a distance, one slip in a real key
 * always gets a suggestion at least as close as that key, and nothing far away is ever suggested.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OPTION_SPECS } from "../../src/options/index.js";
import { closestKey, editDistance, suggestionLimit } from "../../src/config/suggest.js";

/** The keys of each options message, as the loader knows them. */
const KEY_SETS = Object.values(OPTION_SPECS).map((keys) => Object.keys(keys));
const LETTERS = "abcdefghijklmnopqrstuvwxyz_";

/** One slip: a character inserted, deleted, replaced, or two neighbours swapped. */
function slip(key: string, kind: number, at: number, letter: string): string {
  const i = at % (key.length + 1);
  const j = Math.min(i, key.length - 1);
  switch (kind) {
    case 0:
      return key.slice(0, i) + letter + key.slice(i);
    case 1:
      return key.slice(0, j) + key.slice(j + 1);
    case 2:
      return key.slice(0, j) + letter + key.slice(j + 1);
    default:
      return j + 1 < key.length ? key.slice(0, j) + key[j + 1] + key[j] + key.slice(j + 2) : key;
  }
}

describe("closestKey", () => {
  it("editDistance is 0 only for equal strings, symmetric, and bounded by the lengths", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        expect(d === 0).toBe(a === b);
        expect(editDistance(b, a)).toBe(d);
        expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });

  it("a known key suggests itself, in any case", () => {
    for (const keys of KEY_SETS) for (const key of keys) expect(closestKey(key.toUpperCase(), keys)).toBe(key);
  });

  it("one slip in a known key of 3 or more letters gets a suggestion at least as close as that key", () => {
    const keyed = KEY_SETS.flatMap((keys) => keys.filter((key) => key.length >= 3).map((key) => ({ key, keys })));
    fc.assert(
      fc.property(
        fc.constantFrom(...keyed),
        fc.integer({ min: 0, max: 3 }),
        fc.nat(),
        fc.constantFrom(...LETTERS),
        ({ key, keys }, kind, at, letter) => {
          const typo = slip(key, kind, at, letter);
          fc.pre(!keys.includes(typo));
          const suggested = closestKey(typo, keys);
          expect(suggested).toBeDefined();
          expect(editDistance(typo, suggested!)).toBeLessThanOrEqual(editDistance(typo, key));
        },
      ),
    );
  });

  it("never suggests a key farther than the limit", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...LETTERS), maxLength: 16 }),
        fc.constantFrom(...KEY_SETS),
        (typo, keys) => {
          const suggested = closestKey(typo, keys);
          if (suggested !== undefined)
            expect(editDistance(typo.toLowerCase(), suggested)).toBeLessThanOrEqual(suggestionLimit(typo, suggested));
        },
      ),
    );
  });

  it("suggests nothing for unrelated names", () => {
    expect(closestKey("app", ["version", "server", "tcp", "rpc", "logs"])).toBeUndefined();
    expect(closestKey("tcp_extra", ["version", "server", "tcp", "rpc", "logs"])).toBeUndefined();
    expect(closestKey("tpc", ["version", "server", "tcp", "rpc", "logs"])).toBe("tcp");
  });
});
