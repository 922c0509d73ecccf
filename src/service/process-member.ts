/**
 * One server process of several (tcp.processes), as its primary (process-group.ts) forked it
 * with node:cluster: it waits for its start message (its place and its share of the config),
 * starts a Service that listens nowhere, says it is ready, then takes the connections the
 * primary hands it (each socket passed over the IPC channel) and answers the primary's calls
 * from its own pool and servers until the primary asks it to stop.
 *
 * Its stop is the Service's (drain, CLOSE events, workers stopped). If the primary is gone (the
 * IPC channel closes: it was killed), the process does not wait to be told: it kills its workers
 * and exits, so nothing outlives the primary.
 */
import type { Socket } from "node:net";
import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import { errorMessage } from "../errors.js";
import {
  crossError,
  isProcessMessage,
  type CallMessage,
  type ConnectionMessage,
  type FromProcess,
  type ProcessCalls,
  type ProcessOp,
  type StartMessage,
} from "./process-messages.js";
import { Service, type StartPool } from "./service.js";
import { childPids, killProcessGroups } from "./signals.js";

type Handlers = {
  [Op in ProcessOp]: (
    ...args: ProcessCalls[Op]["args"]
  ) => ProcessCalls[Op]["result"] | Promise<ProcessCalls[Op]["result"]>;
};

function send(message: FromProcess): void {
  // The channel may be closing (the primary gone): nothing is left to tell.
  if (process.connected) process.send!(message);
}

/** Resolves with the primary's start message. */
export function startMessage(): Promise<StartMessage> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown): void => {
      if (!isProcessMessage(message) || message.rr !== "start") return;
      process.off("message", onMessage);
      resolve(message as StartMessage);
    };
    process.on("message", onMessage);
    send({ rr: "hello" });
  });
}

/** The config the start message carries, as the loader would have made it. */
export function loadedOf(start: StartMessage): LoadedConfig {
  return { config: start.config, warnings: [], file: start.file, baseDir: start.baseDir };
}

/**
 * Starts this process's Service and serves the primary's calls; exits 1 after telling the
 * primary why when it cannot start.
 */
export async function runProcessMember(start: StartMessage, logger: Logger, startPool: StartPool): Promise<Service> {
  // Installed first: killed workers are the one thing not to leave behind if the primary dies
  // while this process starts.
  let service: Service | undefined;
  process.prependListener("disconnect", () => {
    killProcessGroups(new Set([...childPids(), ...(service?.pool.state().workers.map((w) => w.pid) ?? [])]));
  });
  try {
    service = await Service.start(loadedOf(start), logger, startPool, { adopting: true, metrics: start.metrics });
  } catch (err) {
    send({ rr: "failed", error: crossError(err) });
    logger.debug({ err }, "server process could not start");
    process.exit(1);
  }
  const running = service;
  const across = running.cluster ? running.cluster.server(running.server) : running.server;
  const handlers: Handlers = {
    snapshot: () => {
      const state = running.pool.state();
      return {
        state,
        restarts: running.pool.restarts(),
        cpu: Object.fromEntries(state.workers.map((w) => [w.pid, running.pool.cpuPercent(w.pid)])),
        counters: running.server.counters(),
        buffered: running.server.bufferedBytes(),
        retained: running.server.retainedBytes(),
      };
    },
    connections: (server, wide) => (wide ? across : running.server).connections(server),
    write: (uuid, data, close, wide) => (wide ? across : running.server).write(uuid, Buffer.from(data), close),
    close: (uuid, wide) => (wide ? across : running.server).closeConnection(uuid),
    broadcast: (server, data, wide) => (wide ? across : running.server).broadcast(server, Buffer.from(data)),
    reset: async () => {
      // As one process's reset does (service.ts): the certificates too.
      running.server.reloadCertificates();
      await running.pool.reset();
    },
    addWorker: () => running.pool.addWorker(),
    removeWorker: () => running.pool.removeWorker(),
    killBusyWorkers: (reason) => running.pool.killBusyWorkers(reason),
    reloadCertificates: () => running.server.reloadCertificates().map(errorMessage),
    metrics: async () => (running.registry ? running.registry.getMetricsAsJSON() : []),
    stop: async () => {
      await running.stop();
    },
  };
  process.on("message", (message: unknown, handle: unknown) => {
    if (!isProcessMessage(message)) return;
    if (message.rr === "connection") {
      const { server, id } = message as ConnectionMessage;
      running.server.adopt(server, handle as Socket);
      send({ rr: "adopted", id });
    } else if (message.rr === "call") void answer(handlers, message as CallMessage, running, logger);
  });
  send({ rr: "ready" });
  return running;
}

async function answer(handlers: Handlers, call: CallMessage, service: Service, logger: Logger): Promise<void> {
  try {
    const handle = handlers[call.op] as (...args: unknown[]) => unknown;
    const value = await handle(...(call.args as unknown[]));
    send({ rr: "answer", id: call.id, value });
  } catch (err) {
    send({ rr: "answer", id: call.id, error: crossError(err) });
  }
  if (call.op === "stop") {
    logger.debug("server process stopped");
    // The primary counts this exit as the stop's end; the channel closes with it.
    await service.stop();
    process.exit(0);
  }
}
