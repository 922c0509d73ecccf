/**
 * The merge of RoadRunner's `include:` (mergeTopLevel, src/config/include.ts): whatever the root
 * and the included files hold, the result's top-level keys are the union of theirs (without
 * `include`), each with the value of the last file that has it, and the inputs are left as they were.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mergeTopLevel } from "../../src/config/include.js";

/** Top-level keys: rr-tcp's sections, another plugin's, `include`, and a key that is special in JS. */
const KEYS = ["version", "server", "tcp", "rpc", "logs", "http", "include", "__proto__", "constructor"];

/** A file's data: some of the keys, each with a value that is unique enough to tell files apart. */
const fileData = fc
  .uniqueArray(fc.constantFrom(...KEYS), { maxLength: KEYS.length })
  .chain((keys) =>
    fc
      .tuple(...keys.map(() => fc.oneof(fc.integer(), fc.dictionary(fc.string(), fc.integer()))))
      .map((values) => Object.fromEntries(keys.map((key, i) => [key, values[i]]))),
  );

describe("mergeTopLevel", () => {
  it("keys are the union without include; each value is the last file's that has the key", () => {
    fc.assert(
      fc.property(fileData, fc.array(fileData, { maxLength: 5 }), (root, files) => {
        const before = JSON.stringify([root, files]);
        const merged = mergeTopLevel(root, files);
        const all = [root, ...files];
        const union = new Set(all.flatMap((data) => Object.keys(data)).filter((key) => key !== "include"));
        expect(new Set(Object.keys(merged))).toEqual(union);
        for (const key of union) {
          const last = all.findLast((data) => Object.hasOwn(data, key))!;
          expect(Object.is(merged[key], last[key])).toBe(true);
        }
        expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
        expect(JSON.stringify([root, files])).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
