/** TCP listeners, framing and connections: knows nothing of processes (the pool is an EventPool). */
export { AddressError, formatListenAddress, parseListenAddress, type ListenAddress } from "./address.js";
export { Connection, type CloseReason, type ConnectionOptions, type ConnectionState } from "./connection.js";
export type { EventPool, EventReply, EventRequest } from "./event-pool.js";
export {
  createFramer,
  DelimiterFramer,
  LengthPrefixFramer,
  MessageTooLargeError,
  RawFramer,
  type Framer,
  type FramerOptions,
} from "./framer.js";
export { ListenError, openListener, remoteAddressOf, type Listener } from "./listener.js";
export { SERVER_NODE_FLAGS } from "./node-flags.js";
export { Service, type PoolStartOptions, type ServicePool, type StartPool } from "./serve.js";
export { exitOnSignals, type ShutdownSignalOptions } from "./shutdown.js";
export { TcpServer, type ServerCounters, type TcpServerInit } from "./tcp-server.js";
