/**
 * Codec micro-benchmark: encode a DATA request frame (RoadRunner's 113-byte JSON context and a
 * 1 KiB body) and decode it through a FrameReader, split into context and body.
 *
 *   npx tsx scripts/bench-codec.ts     prints a one-row Markdown table
 */
import { pathToFileURL } from "node:url";
import { encodePayloadFrame, FrameReader, splitPayload, type Frame } from "../src/goridge/index.js";

/** Result of {@link benchCodec}. */
export interface CodecBenchResult {
  nsPerFrame: number;
  framesPerSec: number;
}

const CONTEXT = Buffer.from(
  '{"remote_addr":"127.0.0.1:54321","server":"server1",' +
    '"uuid":"3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b","event":"DATA"}',
);
const BODY = Buffer.alloc(1024, 0x61);
const BATCH = 10_000;

/**
 * Measures encode + decode of one DATA frame, as the median of several timed batches after a
 * warm-up, so a GC pause in one batch does not skew the figure.
 */
export async function benchCodec(opts: { durationMs?: number } = {}): Promise<CodecBenchResult> {
  const durationMs = opts.durationMs ?? 1000;
  const reader = new FrameReader();
  let bytesSeen = 0;
  const onFrame = (frame: Frame): void => {
    bytesSeen += splitPayload(frame).body.length;
  };
  const runBatch = (): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) reader.push(encodePayloadFrame(CONTEXT, BODY), onFrame);
    return Number(process.hrtime.bigint() - start) / BATCH;
  };
  for (let i = 0; i < 5; i++) runBatch();
  const samples: number[] = [];
  const deadline = Date.now() + durationMs;
  do {
    samples.push(runBatch());
    // Let timers and I/O of a host process run between batches.
    await new Promise((resolve) => setImmediate(resolve));
  } while (Date.now() < deadline || samples.length < 5);
  reader.end();
  if (bytesSeen !== BODY.length * BATCH * (samples.length + 5)) {
    throw new Error("codec bench decoded a different number of bytes than it encoded");
  }
  samples.sort((a, b) => a - b);
  const nsPerFrame = samples[samples.length >> 1] as number;
  return { nsPerFrame, framesPerSec: 1e9 / nsPerFrame };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (CONTEXT.length !== 113) throw new Error(`context is ${CONTEXT.length} bytes, expected 113`);
  const { nsPerFrame, framesPerSec } = await benchCodec();
  const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
  process.stdout.write(
    "| benchmark | ns/frame | frames/s |\n| --- | ---: | ---: |\n" +
      `| goridge DATA frame (113 B context, 1 KiB body): encode + FrameReader decode | ${fmt(nsPerFrame)} | ${fmt(framesPerSec)} |\n`,
  );
}
