/**
 * rr-tcp as several server processes (tcp.processes > 1): this process, the primary, starts them
 * (process-group.ts) and holds the endpoints a config asks for (RPC, the control API, status,
 * metrics), each answering for all of them. Its stop is theirs: each drains and closes its
 * connections with their CLOSE events and stops its workers, as one process does; the RPC
 * endpoint stays up until they are done, since their workers may call it while they drain.
 */
import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import { formatIssue } from "../config/errors.js";
import { RpcServer } from "../control/rpc-server.js";
import { defaultMs } from "../options/index.js";
import { durationToMs } from "../protocol/index.js";
import { closeEndpoints, openEndpoints, rpcMethodsFor, type Endpoints, type EndpointTargets } from "./endpoints.js";
import { ProcessGroup } from "./process-group.js";

export class ProcessGroupService {
  #stopping: Promise<void> | undefined;
  readonly #lifecycle: { stopping: boolean };

  private constructor(
    readonly group: ProcessGroup,
    readonly rpc: RpcServer | undefined,
    readonly endpoints: Endpoints,
    lifecycle: { stopping: boolean },
    private readonly logger: Logger,
    private readonly destroyTimeoutMs: number,
  ) {
    this.#lifecycle = lifecycle;
  }

  /** The servers of every process, as the endpoints see them. */
  get server(): ProcessGroup["server"] {
    return this.group.server;
  }

  /** The pools of every process, as the endpoints see them. */
  get pool(): ProcessGroup["pool"] {
    return this.group.pool;
  }

  /** Starts the RPC endpoint (its address is every worker's RR_RPC), the processes, then the other endpoints. */
  static async start(loaded: LoadedConfig, logger: Logger, launchDir?: string): Promise<ProcessGroupService> {
    const { config } = loaded;
    for (const warning of loaded.warnings) logger.warn({ key: warning.path }, `config: ${formatIssue(warning)}`);
    const rpc = config.rpc?.listen ? await RpcServer.listen(config.rpc.listen, logger) : undefined;
    if (rpc) logger.info({ addr: rpc.address }, `RPC listening on ${rpc.address}`);
    const withMetrics = Boolean(config.control?.addr || config.metrics?.address);
    const destroyTimeoutMs =
      durationToMs(config.tcp?.pool?.destroy_timeout) || defaultMs("PoolOptions", "destroy_timeout");
    let group: ProcessGroup | undefined;
    try {
      group = await ProcessGroup.start(loaded, {
        logger,
        rpcAddress: rpc?.address,
        metrics: withMetrics,
        launchDir,
      });
      const lifecycle = { stopping: false };
      const started = group;
      const targets: EndpointTargets = {
        pool: group.pool,
        server: group.server,
        metrics: withMetrics ? group.metricsSource : undefined,
        stopping: () => lifecycle.stopping,
        before: () => started.refresh(),
      };
      const endpoints = await openEndpoints(config, logger, targets);
      rpc?.serve(rpcMethodsFor(targets));
      return new ProcessGroupService(group, rpc, endpoints, lifecycle, logger, destroyTimeoutMs);
    } catch (err) {
      await group?.stop(destroyTimeoutMs);
      await rpc?.close();
      throw err;
    }
  }

  /** Stops every process as one process stops, then the endpoints. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const started = Date.now();
      this.#lifecycle.stopping = true;
      await this.group.stop(this.destroyTimeoutMs);
      await closeEndpoints(this.endpoints);
      await this.rpc?.close();
      this.logger.info({ ms: Date.now() - started }, "rr-tcp stopped");
    })();
    return this.#stopping;
  }
}
