import { defineConfig } from "vitest/config";
import { scaled } from "./test/fixtures/eventually.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Scaled like every wait in the tests, by RR_TCP_TEST_TIMEOUT_SCALE (npm run test:loaded).
    testTimeout: scaled(30_000),
    hookTimeout: scaled(30_000),
    pool: "forks",
    // Most test time is spent waiting on child processes and sockets, not computing: three files
    // at once on two cores took an idle run from 183 s to 109 s. The suite holds on a loaded
    // machine at this parallelism too (npm run test:loaded).
    maxWorkers: 3,
  },
});
