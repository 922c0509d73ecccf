/**
 * Relays: goridge frames carried over a worker's pipes or a tcp/unix socket, the pid handshake
 * that pairs a socket with its process, and the listener workers connect to. Built on the pure
 * codec in src/goridge and the listening in src/net.
 */
export * from "./errors.js";
export * from "./stream-relay.js";
export * from "./handshake.js";
export * from "./socket-relay-listener.js";
export * from "./connect-relay.js";
