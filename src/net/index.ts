/**
 * Addresses and listening sockets, shared by the TCP servers, the relays, the RPC endpoint and the
 * control API. Knows nothing of frames, workers or connections.
 */
export * from "./errors.js";
export * from "./socket-address.js";
export * from "./listen-address.js";
export * from "./relay-address.js";
export * from "./listen.js";
export * from "./listen-backlog.js";
export * from "./remote-address.js";
export * from "./proxy-protocol.js";
export * from "./trusted-sources.js";
export { removeStaleSocketFile, SocketFileError } from "./unix-socket-file.js";
