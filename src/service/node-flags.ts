/**
 * The Node flags the rr-tcp server process runs with. `npm start` and the `rr-tcp` command (the
 * launcher scripts/write-bin.ts writes at build time) pass them, and tests hold both to this list;
 * an embedding program should start Node with them too, since V8 flags cannot be changed safely
 * once the process runs (v8.setFlagsFromString("--single-threaded-gc") crashes V8).
 *
 * `--single-threaded-gc`: V8's parallel scavenges and concurrent marking hand work to helper
 * threads and the main thread waits for them. An application server's workers are meant to use
 * every core, so those helper threads queue behind the workers for a scheduler slice, and the
 * whole event loop stalls with them: measured on 2 cores with 64 connections of 4 KiB, the server
 * stopped for 4-12 ms after most scavenges in about half the runs, which made p99 12 ms instead
 * of 5 ms (scripts/bench.ts). The server's heap is small (tens of MiB), so doing that work on the
 * main thread costs well under a millisecond per scavenge.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--single-threaded-gc"];
