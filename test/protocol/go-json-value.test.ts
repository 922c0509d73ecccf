import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { goJsonValue } from "../../src/protocol/index.js";

// Every expected string below was written by hand and checked against Go's json.Marshal of the
// equivalent Go value (a struct where field order matters, otherwise a map or slice).

describe("goJsonValue: concrete values", () => {
  it("informer.Workers' result with a bigint nanosecond timestamp", () => {
    const value = { workers: [{ pid: 1, created: 1700000000000000000n, statusStr: "ready" }] };
    expect(goJsonValue(value)).toBe('{"workers":[{"pid":1,"created":1700000000000000000,"statusStr":"ready"}]}');
  });

  it("a whole RoadRunner process.State, fields in insertion order", () => {
    const state = {
      pid: 4242,
      status: 2,
      numExecs: 17,
      created: 1712345678901000000n,
      memoryUsage: 31457280,
      CPUPercent: 0,
      command: "",
      statusStr: "working",
    };
    expect(goJsonValue({ workers: [state, { ...state, pid: 4243, status: 1, statusStr: "ready" }] })).toBe(
      '{"workers":[' +
        '{"pid":4242,"status":2,"numExecs":17,"created":1712345678901000000,"memoryUsage":31457280,' +
        '"CPUPercent":0,"command":"","statusStr":"working"},' +
        '{"pid":4243,"status":1,"numExecs":17,"created":1712345678901000000,"memoryUsage":31457280,' +
        '"CPUPercent":0,"command":"","statusStr":"ready"}' +
        "]}",
    );
  });

  it("keeps keys in insertion order, not sorted", () => {
    expect(goJsonValue({ z: 1, a: 2, m: 3 })).toBe('{"z":1,"a":2,"m":3}');
    expect(goJsonValue({ statusStr: "x", pid: 1 })).toBe('{"statusStr":"x","pid":1}');
  });

  it("escapes <, > and & in nested keys and values as \\u003c, \\u003e, \\u0026", () => {
    const value = { "a<b": { "c&d": ["<script>", "x>y"] } };
    expect(goJsonValue(value)).toBe('{"a\\u003cb":{"c\\u0026d":["\\u003cscript\\u003e","x\\u003ey"]}}');
    expect(goJsonValue([{ k: [{ "<>&": "&amp;" }] }])).toBe('[{"k":[{"\\u003c\\u003e\\u0026":"\\u0026amp;"}]}]');
  });

  it("escapes quotes, backslashes, newlines, control characters and U+2028/U+2029; keeps other unicode", () => {
    expect(goJsonValue('\n\t\u0001\u2028\u2029é😀"\\/')).toBe('"\\n\\t\\u0001\\u2028\\u2029é😀\\"\\\\/"');
    expect(goJsonValue({ 'say "hi"\r\n': "\u0000\u001f" })).toBe('{"say \\"hi\\"\\r\\n":"\\u0000\\u001f"}');
  });

  it("arrays: empty, nested, mixed", () => {
    expect(goJsonValue([])).toBe("[]");
    expect(goJsonValue([[], [[]]])).toBe("[[],[[]]]");
    expect(goJsonValue(["tcp"])).toBe('["tcp"]');
    expect(goJsonValue([1, "a", true, false, null, { b: [2] }])).toBe('[1,"a",true,false,null,{"b":[2]}]');
  });

  it("null and undefined are null, top level, in arrays and as field values", () => {
    expect(goJsonValue(null)).toBe("null");
    expect(goJsonValue(undefined)).toBe("null");
    expect(goJsonValue([null, undefined])).toBe("[null,null]");
    expect(goJsonValue({ workers: null })).toBe('{"workers":null}');
    expect(goJsonValue({ a: undefined, b: 1 })).toBe('{"a":null,"b":1}');
  });

  it("empty object and booleans", () => {
    expect(goJsonValue({})).toBe("{}");
    expect(goJsonValue(true)).toBe("true");
    expect(goJsonValue(false)).toBe("false");
  });

  it("numbers as Go writes float64 and int values", () => {
    expect(goJsonValue(0)).toBe("0");
    expect(goJsonValue(-5)).toBe("-5");
    expect(goJsonValue(123456789012)).toBe("123456789012");
    expect(goJsonValue(2 ** 53)).toBe("9007199254740992");
    expect(goJsonValue(1.5)).toBe("1.5");
    expect(goJsonValue(0.1)).toBe("0.1");
    expect(goJsonValue(1e20)).toBe("100000000000000000000");
    expect(goJsonValue(1e21)).toBe("1e+21");
  });

  it("bigints as integers, beyond Number's safe range", () => {
    expect(goJsonValue(0n)).toBe("0");
    expect(goJsonValue(18446744073709551615n)).toBe("18446744073709551615");
    expect(goJsonValue(-9223372036854775808n)).toBe("-9223372036854775808");
    expect(goJsonValue({ n: [9007199254740993n] })).toBe('{"n":[9007199254740993]}');
  });

  it.each([NaN, Infinity, -Infinity])("throws RangeError for %s, also nested", (n) => {
    expect(() => goJsonValue(n)).toThrow(RangeError);
    expect(() => goJsonValue({ a: [1, { b: n }] })).toThrow(RangeError);
    expect(() => goJsonValue(n)).toThrow(/unsupported value/);
  });
});

describe("goJsonValue: properties", () => {
  const wellFormed = (s: string): boolean => Buffer.from(s, "utf8").toString("utf8") === s;
  const noHtmlOrLineSeparators = (s: string): boolean => !/[<>&\u2028\u2029]/.test(s);

  // Integers only (Go ints); `+ 0` turns -0 into 0, which JSON cannot tell apart.
  const integer = fc.oneof(fc.integer(), fc.maxSafeInteger()).map((n) => n + 0);

  function jsonValues(text: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
    return fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { maxDepth: 4, depthIdentifier: "json" },
        fc.constant(null),
        fc.boolean(),
        integer,
        text,
        fc.array(tie("value"), { maxLength: 5 }),
        fc.dictionary(text, tie("value"), { maxKeys: 5, noNullPrototype: true }),
      ),
    })).value;
  }

  const anyText = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }));
  const safeText = anyText.filter((s) => wellFormed(s) && noHtmlOrLineSeparators(s));
  const htmlText = fc.oneof(anyText, fc.stringMatching(/^[a<>&\u2028\u2029]{0,8}$/)).filter((s) => wellFormed(s));

  it("JSON.parse(goJsonValue(v)) deep-equals v for JSON values without <>& or U+2028/U+2029", () => {
    fc.assert(
      fc.property(jsonValues(safeText), (v) => {
        expect(JSON.parse(goJsonValue(v))).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it("on that domain the output is byte for byte JSON.stringify's", () => {
    fc.assert(
      fc.property(jsonValues(safeText), (v) => {
        expect(goJsonValue(v)).toBe(JSON.stringify(v));
      }),
      { numRuns: 500 },
    );
  });

  it("with <, >, &, U+2028 and U+2029 in keys and strings: JSON.stringify's bytes with those escaped, and it parses back", () => {
    fc.assert(
      fc.property(jsonValues(htmlText), (v) => {
        const out = goJsonValue(v);
        expect(out).not.toMatch(/[<>&\u2028\u2029]/);
        const expected = JSON.stringify(v)
          .replace(/</g, "\\u003c")
          .replace(/>/g, "\\u003e")
          .replace(/&/g, "\\u0026")
          .replace(/\u2028/g, "\\u2028")
          .replace(/\u2029/g, "\\u2029");
        expect(out).toBe(expected);
        expect(JSON.parse(out)).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it("bigints of any size are written as their decimal digits", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 128n), max: 2n ** 128n }), (n) => {
        const out = goJsonValue({ n });
        expect(out).toMatch(/^\{"n":-?\d+\}$/);
        expect(BigInt(out.slice(5, -1))).toBe(n);
      }),
    );
  });
});

describe("goJsonValue on a sparse array", () => {
  it("writes each hole as null, as JSON.stringify and Go's nil elements do", () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(goJsonValue([1, , 3])).toBe("[1,null,3]");
  });
});
