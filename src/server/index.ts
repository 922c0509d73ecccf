/** TCP listeners, framing and connections: knows nothing of processes (the pool is an EventPool). */
export {
  CLOSE_REASONS,
  Connection,
  type CloseReason,
  type ConnectionOptions,
  type ConnectionState,
} from "./connection.js";
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
export { openListener, type Listener } from "./listener.js";
export { TcpServer, type TcpServerInit } from "./tcp-server.js";
export {
  EVENT_KINDS,
  newServerCounters,
  PUSH_OUTCOMES,
  REPLY_KINDS,
  type EventKind,
  type PushOutcomeKind,
  type ReplyKind,
  type ServerCounters,
} from "./server-counters.js";
export type { EventTimings, ServerObserver } from "./server-observer.js";
export { PushError, type PushErrorCode, type PushOutcome } from "./push.js";
