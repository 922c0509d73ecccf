import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Framing } from "../../gen/ts/rr/tcp/v1/options.js";
import {
  createFramer,
  DelimiterFramer,
  LengthPrefixFramer,
  MessageTooLargeError,
  RawFramer,
  type Framer,
} from "../../src/server/framer.js";

/** Cuts `bytes` at the given sorted offsets. */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) out.push(Buffer.from(bytes.subarray(last, p)));
    last = Math.max(last, p);
  }
  return out;
}

/** Feeds chunks, draining after each push the way a connection does. */
function feed(framer: Framer, chunks: Buffer[]): { messages: Buffer[]; rest: Buffer | undefined } {
  const messages: Buffer[] = [];
  for (const c of chunks) {
    framer.push(c);
    for (let m = framer.next(); m; m = framer.next()) messages.push(m);
  }
  return { messages, rest: framer.finish() };
}

/** The reference: leftmost-first split of the whole stream, delimiters kept. */
function splitReference(stream: Buffer, delimiter: Buffer): { messages: Buffer[]; rest: Buffer | undefined } {
  const messages: Buffer[] = [];
  let from = 0;
  for (let at = stream.indexOf(delimiter, from); at >= 0; at = stream.indexOf(delimiter, from)) {
    messages.push(stream.subarray(from, at + delimiter.length));
    from = at + delimiter.length;
  }
  return { messages, rest: from < stream.length ? stream.subarray(from) : undefined };
}

const hex = (b: Buffer | undefined) => b?.toString("hex");

describe("DelimiterFramer", () => {
  it("gives one message per delimiter, wherever it falls in one read", () => {
    const { messages, rest } = feed(new DelimiterFramer(Buffer.from("\r\n"), 1024), [Buffer.from("a\r\nb\r\nc")]);
    expect(messages.map(String)).toEqual(["a\r\n", "b\r\n"]);
    expect(String(rest)).toBe("c");
  });

  it("finds a multi-byte delimiter split across reads one byte at a time", () => {
    const bytes = Buffer.from("hello--end--world--end--");
    const { messages, rest } = feed(new DelimiterFramer(Buffer.from("--end--"), 1024), chunk(bytes, [...bytes.keys()]));
    expect(messages.map(String)).toEqual(["hello--end--", "world--end--"]);
    expect(rest).toBeUndefined();
  });

  it("matches the reference split for any stream, delimiter and chunking", () => {
    const alphabet = fc.constantFrom(0x61, 0x62, 0x0d, 0x0a, 0x2d);
    fc.assert(
      fc.property(
        fc
          .uint8Array({ minLength: 1, maxLength: 4 })
          .map((d) => Buffer.from(d.map((x) => [0x61, 0x62, 0x0d, 0x0a, 0x2d][x % 5]!))),
        fc.array(alphabet, { maxLength: 300 }).map((a) => Buffer.from(a)),
        fc.array(fc.nat(), { maxLength: 40 }),
        (delimiter, stream, cuts) => {
          const got = feed(new DelimiterFramer(delimiter, 1 << 20), chunk(stream, cuts));
          const want = splitReference(stream, delimiter);
          expect(got.messages.map(hex)).toEqual(want.messages.map(hex));
          expect(hex(got.rest)).toEqual(hex(want.rest));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("hands out views that stay intact while more bytes arrive", () => {
    const framer = new DelimiterFramer(Buffer.from("\n"), 1 << 20);
    framer.push(Buffer.from("ab"));
    framer.push(Buffer.from("c\nde"));
    const first = framer.next()!;
    for (let i = 0; i < 100; i++) framer.push(Buffer.from("xyz"));
    framer.push(Buffer.from("\n"));
    const second = framer.next()!;
    expect(String(first)).toBe("abc\n");
    expect(String(second)).toBe("de" + "xyz".repeat(100) + "\n");
  });

  it("does not copy a message that arrives in one read", () => {
    const read = Buffer.from("one\ntwo\n");
    const framer = new DelimiterFramer(Buffer.from("\n"), 100);
    framer.push(read);
    const message = framer.next()!;
    expect(message.buffer).toBe(read.buffer);
  });

  it("refuses a message over max_message_size as soon as the bytes held reach it", () => {
    const framer = new DelimiterFramer(Buffer.from("\r\n"), 8);
    framer.push(Buffer.from("ok\r\n1234567"));
    expect(String(framer.next())).toBe("ok\r\n");
    expect(framer.next()).toBeUndefined(); // 7 bytes held: below the limit, wait for more
    framer.push(Buffer.from("8"));
    expect(() => framer.next()).toThrow(MessageTooLargeError);
  });

  it("accepts a message of exactly max_message_size bytes, delimiter included", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.array(fc.nat(), { maxLength: 10 }), (limit, cuts) => {
        const ok = Buffer.concat([Buffer.alloc(limit - 2, 0x61), Buffer.from("\r\n")]);
        const over = Buffer.concat([Buffer.alloc(limit - 1, 0x62), Buffer.from("\r\n")]);
        const framer = new DelimiterFramer(Buffer.from("\r\n"), limit);
        const messages: Buffer[] = [];
        let error: unknown;
        try {
          for (const c of chunk(Buffer.concat([ok, over]), cuts)) {
            framer.push(c);
            for (let m = framer.next(); m; m = framer.next()) messages.push(m);
          }
        } catch (err) {
          error = err;
        }
        expect(messages.map(hex)).toEqual([hex(ok)]);
        expect(error).toBeInstanceOf(MessageTooLargeError);
        expect((error as MessageTooLargeError).limit).toBe(limit);
      }),
    );
  });
});

describe("what a partial message pins", () => {
  it.each([
    ["delimiter", () => new DelimiterFramer(Buffer.from("\r\n"), 1 << 22), Buffer.from("\r\n")],
    ["length", () => new LengthPrefixFramer(4, 1 << 22), undefined],
  ] as const)("%s: a small remainder of a large read is copied out of it", (_name, make, delimiter) => {
    const framer = make();
    const body = 1 << 20;
    // One 1 MiB message and the first byte of the next, in one read.
    const read = delimiter
      ? Buffer.concat([Buffer.alloc(body, "a"), delimiter, Buffer.from("X")])
      : Buffer.concat([Buffer.from([0, 0x10, 0, 0]), Buffer.alloc(body, "a"), Buffer.from([0])]);
    framer.push(read);
    expect(framer.next()?.length).toBe(delimiter ? body + 2 : body + 4);
    expect(framer.next()).toBeUndefined();
    expect(framer.buffered).toBe(1);
    expect(framer.retained).toBeLessThan(16 * 1024);
  });

  it("keeps a large remainder where it is (no copy when it is most of the buffer)", () => {
    const framer = new DelimiterFramer(Buffer.from("\r\n"), 1 << 22);
    const read = Buffer.concat([Buffer.from("hi\r\n"), Buffer.alloc(64 * 1024, "b")]);
    framer.push(read);
    expect(framer.next()?.toString()).toBe("hi\r\n");
    expect(framer.next()).toBeUndefined();
    expect(framer.retained).toBe(read.length);
  });
});

describe("LengthPrefixFramer", () => {
  const encode = (lengthBytes: number, body: Buffer): Buffer => {
    const prefix = Buffer.alloc(lengthBytes);
    prefix.writeUIntBE(body.length, 0, lengthBytes);
    return Buffer.concat([prefix, body]);
  };

  it("gives every message, prefix kept, for any chunking (split and merged reads)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4),
        fc.array(fc.uint8Array({ maxLength: 255 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (lengthBytes, bodies, cuts) => {
          const frames = bodies.map((b) => encode(lengthBytes, Buffer.from(b)));
          const got = feed(new LengthPrefixFramer(lengthBytes, 1 << 20), chunk(Buffer.concat(frames), cuts));
          expect(got.messages.map(hex)).toEqual(frames.map(hex));
          expect(got.rest).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses an oversize message from its prefix alone, before its body arrives", () => {
    const framer = new LengthPrefixFramer(4, 100);
    framer.push(Buffer.from([0, 0, 0, 97]));
    expect(() => framer.next()).toThrow(/message of 101 bytes exceeds max_message_size 100/);
  });

  it("hands back a truncated message at end of stream", () => {
    const { messages, rest } = feed(new LengthPrefixFramer(2, 100), [Buffer.from([0, 5, 1, 2])]);
    expect(messages).toEqual([]);
    expect(hex(rest)).toBe("00050102");
  });
});

describe("RawFramer", () => {
  it("gives every read as one message, cut at the read size", () => {
    const { messages } = feed(new RawFramer(4, 100), [Buffer.from("abc"), Buffer.from("defghij")]);
    expect(messages.map(String)).toEqual(["abc", "defg", "hij"]);
  });

  it("refuses a read over max_message_size", () => {
    const framer = new RawFramer(100, 3);
    framer.push(Buffer.from("abcd"));
    expect(() => framer.next()).toThrow(MessageTooLargeError);
  });
});

describe("createFramer", () => {
  it("picks the framer of the framing", () => {
    const options = { delimiter: Buffer.from("\n"), lengthBytes: 4, maxMessageSize: 10, maxReadSize: 10 };
    expect(createFramer({ ...options, framing: Framing.DELIMITER })).toBeInstanceOf(DelimiterFramer);
    expect(createFramer({ ...options, framing: Framing.UNSPECIFIED })).toBeInstanceOf(DelimiterFramer);
    expect(createFramer({ ...options, framing: Framing.RAW })).toBeInstanceOf(RawFramer);
    expect(createFramer({ ...options, framing: Framing.LENGTH })).toBeInstanceOf(LengthPrefixFramer);
  });
});
