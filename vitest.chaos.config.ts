import { defineConfig } from "vitest/config";
import { scaled } from "./test/fixtures/eventually.js";

/**
 * The chaos suite (docs/chaos.md): `npm run test:chaos`. Its files are `test/chaos/*.chaos.ts`, which
 * `npm test` never picks up (vitest.config.ts includes `*.test.ts` only). One file at a time, so
 * every case has both cores and its peak RSS and timing are its own.
 */
export default defineConfig({
  test: {
    include: ["test/chaos/**/*.chaos.ts"],
    globalSetup: ["test/chaos/global-setup.ts"],
    testTimeout: scaled(60_000),
    hookTimeout: scaled(30_000),
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
  },
});
