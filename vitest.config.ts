import { defineConfig } from "vitest/config";
import { scaled } from "./test/fixtures/eventually.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests spawn real processes and sockets; two cores, so keep parallelism modest.
    // Scaled like every wait in the tests, by RR_TCP_TEST_TIMEOUT_SCALE (npm run test:loaded).
    testTimeout: scaled(30_000),
    hookTimeout: scaled(30_000),
    pool: "forks",
  },
});
