/** The composition root: a loaded config turned into a pool, servers, RPC and control API; and their stop. */
export { createLogger, logShape, type CreateLoggerOptions, type LogShape } from "./logger.js";
export { SERVER_NODE_FLAGS } from "./node-flags.js";
export { Service, type PoolStartOptions, type ServicePool, type StartPool } from "./service.js";
export { exitOnSignals, type ShutdownSignalOptions } from "./signals.js";
