#!/usr/bin/env node
/**
 * The `rr-tcp` command, shaped like RoadRunner's `rr`:
 *
 *   rr-tcp serve [-c .rr.yaml] [-w dir] [-o key=value]... [--dotenv file] [--log-level level]
 *   rr-tcp validate [-c .rr.yaml] [-w dir] [-o key=value]... [--dotenv file]
 *   rr-tcp workers [-i] [--json] | reset | connections [--json] [--server name] | close UUID   [--rpc addr]
 *   rr-tcp write UUID [DATA] [--close] | broadcast SERVER [DATA]   [--base64] [--file path|-] [--rpc addr]
 *   rr-tcp --version           rr-tcp 1.3.0 (schema rr.tcp.v1 1.3.0): the package and the schema it speaks
 *
 * Which config and which working directory: src/cli/config-source.ts (as `rr`: -w, else the
 * config file's folder; ./.rr.yaml without -c; `serve` alone falls back to the built-in echo
 * config, server `main` on 127.0.0.1:7000). Logs go to stderr (logs.output): stdout stays free
 * for command output, and workers never share either stream with the server (their stdout is
 * the relay, their stderr is logged by the pool).
 */
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import type { Logger } from "pino";
import {
  defaultConfigData,
  formatConfigYaml,
  formatIssue,
  packageRoot,
  processCount,
  type LoadedConfig,
} from "./config/index.js";
import { LOG_LEVELS } from "./config/schema.js";
import { errorCode, errorMessage, RrTcpError } from "./errors.js";
import { WorkerPool } from "./pool/index.js";
import { SCHEMA_PACKAGE, SCHEMA_VERSION } from "./protocol/index.js";
import { ProcessGroupService } from "./service/process-group-service.js";
import { runProcessMember, startMessage } from "./service/process-member.js";
import { Service } from "./service/service.js";
import { createLogger } from "./service/logger.js";
import { childPids, exitOnSignals, killProcessGroups } from "./service/signals.js";
import { chooseConfig, type ConfigChoice, type ConfigFlags } from "./cli/config-source.js";
import {
  broadcastCommand,
  checkPlugins,
  closeCommand,
  connectionsCommand,
  resetCommand,
  workersCommand,
  writeCommand,
  type PushFlags,
  type RpcFlags,
} from "./cli/rpc-commands.js";

/** Where rr-tcp was launched, before -w or the config's folder changed it: server processes start here. */
const LAUNCH_DIR = process.cwd();

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Runs a command; an error of rr-tcp's (a bad config, a refused RPC call) is printed, exit 1. */
async function run<T>(action: () => Promise<T> | T): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (errorCode(err) === undefined) throw err;
    process.stderr.write(`rr-tcp: ${errorMessage(err)}\n`);
    process.exit(1);
  }
}

function describeSource(choice: ConfigChoice): string {
  if (choice.source === "built-in") return `no ./.rr.yaml in ${process.cwd()}: serving the built-in echo config`;
  return `config ${choice.loaded.file}${choice.source === "./.rr.yaml" ? " (found in the working directory)" : ""}`;
}

/**
 * The one log line of a failed start: the config key at fault first, the message, the error's
 * code, the address, and the system error behind it (EADDRINUSE, ENOENT, EACCES). A stack tells
 * an operator nothing about a taken port or a missing command, so it goes to debug only.
 */
function startFailure(err: unknown, loaded: LoadedConfig): { facts: Record<string, unknown>; message: string } {
  const error = RrTcpError.from(err);
  let key = error.key;
  let message = error.message;
  // A ListenError names the server (tcp.servers.main) and starts its message with it: the key to fix is its addr.
  if (key !== undefined && message.startsWith(`${key}: `)) message = message.slice(key.length + 2);
  if (key !== undefined && /^tcp\.servers\.[^.]+$/.test(key)) key = `${key}.addr`;
  // The pool's start errors name the command, not where it was set.
  if (key === undefined && error.code === "SPAWN_FAILED")
    key = (loaded.config.tcp?.pool?.command ?? []).length > 0 ? "tcp.pool.command" : "server.command";
  const cause = errorCode(error.cause);
  return {
    facts: {
      code: error.code,
      ...(key !== undefined && { key }),
      ...(error.address !== undefined && { address: error.address }),
      ...(cause !== undefined && { cause }),
    },
    message: `rr-tcp could not start: ${key !== undefined ? `${key}: ` : ""}${message}`,
  };
}

async function serve(flags: ConfigFlags & { logLevel?: string }): Promise<void> {
  // A server process of several (tcp.processes): node:cluster ran this command again for it.
  if (cluster.isWorker) return serveAsProcess(flags);
  const choice = await run(() => chooseConfig(flags, "built-in"));
  const loaded: LoadedConfig = choice.loaded;
  const logger: Logger = await run(() =>
    createLogger(loaded.config.logs, { levelOverride: flags.logLevel, baseDir: loaded.baseDir }),
  );
  const processes = processCount(loaded.config);
  logger.info(
    { config: loaded.file ?? "(built-in default config)", workdir: loaded.baseDir, processes },
    `rr-tcp ${version()} starting: ${describeSource(choice)}${processes > 1 ? ` (${processes} server processes)` : ""}`,
  );
  const starting: Promise<Service | ProcessGroupService> =
    processes > 1
      ? ProcessGroupService.start(loaded, logger, LAUNCH_DIR)
      : Service.start(loaded, logger, (poolOptions) => WorkerPool.start(poolOptions));
  let service: Service | ProcessGroupService | undefined;
  // Installed before the start completes: a signal during start-up stops what has started.
  exitOnSignals(async () => (await starting.catch(() => undefined))?.stop(), {
    logger,
    // Every child, not only the pool's list: workers still starting are not in it yet. With
    // several server processes, their workers too (as they last reported them).
    kill: () =>
      killProcessGroups(
        new Set([
          ...childPids(),
          ...(service instanceof ProcessGroupService
            ? service.group.pids()
            : (service?.pool.state().workers.map((w) => w.pid) ?? [])),
        ]),
      ),
  });
  // SIGHUP reloads the TLS servers' certificates (a renewed one is picked up without a restart).
  process.on("SIGHUP", () => {
    logger.info("SIGHUP: reloading the TLS certificates");
    // Several processes answer over IPC: one gone or slow is logged, never a crash.
    Promise.resolve(service?.server.reloadCertificates()).catch((err: unknown) =>
      logger.error({ err }, `SIGHUP: reloading the certificates failed: ${errorMessage(err)}`),
    );
  });
  try {
    service = await starting;
  } catch (err) {
    const { facts, message } = startFailure(err, loaded);
    logger.error(facts, message);
    logger.debug({ err }, "rr-tcp could not start: the error in full");
    process.exit(1);
  }
  logger.info({ servers: service.server.addresses() }, "rr-tcp ready");
}

/**
 * One server process of several: its config comes from the primary (its share), not from the
 * flags; its logs carry its index. It stops on a signal as one rr-tcp does (Ctrl-C reaches the
 * whole process group), and when the primary asks.
 */
async function serveAsProcess(flags: { logLevel?: string }): Promise<void> {
  const start = await startMessage();
  // Relative paths resolve as the primary's do.
  process.chdir(start.baseDir);
  const logger = (
    await run(() => createLogger(start.config.logs, { levelOverride: flags.logLevel, baseDir: start.baseDir }))
  ).child({ process: start.index });
  const starting = runProcessMember(start, logger, (poolOptions) => WorkerPool.start(poolOptions));
  exitOnSignals(async () => (await starting).stop(), { logger, kill: () => killProcessGroups(childPids()) });
  // The primary reloads every process's certificates on its SIGHUP; one sent to the whole
  // group must not end this process (SIGHUP's default).
  process.on("SIGHUP", () => void starting.then((service) => service.server.reloadCertificates()));
  await starting;
}

async function validate(flags: ConfigFlags): Promise<void> {
  await run(async () => {
    const { loaded } = await chooseConfig(flags, "fail");
    for (const warning of loaded.warnings) process.stderr.write(`warning: ${formatIssue(warning)}\n`);
    process.stdout.write(formatConfigYaml(loaded.config));
  });
}

/** The built-in config's listen addresses, read from it rather than restated in the help. */
function builtInAddresses(): string {
  const { tcp } = defaultConfigData() as { tcp: { servers: Record<string, { addr: string }> } };
  return Object.values(tcp.servers)
    .map((server) => server.addr)
    .join(", ");
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The flags of every command that reads a config. */
function configFlags(command: Command, what: string): Command {
  return command
    .option("-c, --config <file>", `the .rr.yaml ${what} (default: ./.rr.yaml)`)
    .option("-w, --workdir <dir>", "working directory (default: the config file's folder, as rr)")
    .option(
      "-o, --override <key=value>",
      "override a config key, dotted (-o tcp.pool.num_workers=4); repeatable",
      collect,
    )
    .option("--dotenv <file>", "load environment variables from this file first [$DOTENV_PATH]");
}

/** The flags of the commands that call a running rr-tcp. */
function rpcFlags(command: Command): Command {
  return configFlags(command, "whose rpc.listen to call").option(
    "--rpc <addr>",
    "the RPC address (tcp://127.0.0.1:6001, unix:///run/rr.sock) instead of the config's rpc.listen",
  );
}

const program = new Command("rr-tcp")
  .description(
    "RoadRunner-compatible TCP application server: client connections become CONNECTED / DATA / CLOSE events for worker processes",
  )
  // The package's version and the schema's: rr-tcp 1.3.0 (schema rr.tcp.v1 1.3.0).
  .version(`rr-tcp ${version()} (schema ${SCHEMA_PACKAGE} ${SCHEMA_VERSION})`, "-v, --version")
  .showHelpAfterError();

configFlags(
  program
    .command("serve")
    .description(
      "run the TCP servers and their worker pool (SIGTERM/SIGINT/SIGQUIT: graceful stop; twice: kill the workers, exit now)",
    ),
  `to serve; without it and without ./.rr.yaml, the built-in echo config (${builtInAddresses()})`,
)
  .addOption(new Option("--log-level <level>", "log level (overrides logs.level)").choices(LOG_LEVELS))
  .action(serve);

configFlags(
  program
    .command("validate")
    .description("load a config, print it resolved (defaults applied) on stdout, or its errors on stderr and exit 1"),
  "to check",
).action(validate);

const PLUGINS_ARGUMENT = ["[plugins...]", 'as rr takes them; rr-tcp has one, "tcp" (the default)'] as const;

rpcFlags(
  program
    .command("workers")
    .description("the workers of a running rr-tcp, as `rr workers` shows them")
    .argument(...PLUGINS_ARGUMENT),
)
  .option("-i, --interactive", "redraw every second until Ctrl-C")
  .option("--json", "print informer.Workers' answer as JSON")
  .action((plugins: string[], flags: RpcFlags & { interactive?: boolean; json?: boolean }) =>
    run(() => {
      checkPlugins(plugins);
      return workersCommand(flags);
    }),
  );

rpcFlags(
  program
    .command("reset")
    .description("replace every worker of a running rr-tcp (resetter.Reset)")
    .argument(...PLUGINS_ARGUMENT),
).action((plugins: string[], flags: RpcFlags) =>
  run(() => {
    checkPlugins(plugins);
    return resetCommand(flags);
  }),
);

rpcFlags(program.command("connections").description("the open client connections of a running rr-tcp"))
  .option("--json", "print the list as JSON (rr.tcp.v1.ConnectionList)")
  .option("--server <name>", "only the connections of this server (a key of tcp.servers)")
  .action((flags: RpcFlags & { json?: boolean; server?: string }) => run(() => connectionsCommand(flags)));

rpcFlags(
  program
    .command("close")
    .description("close one client connection of a running rr-tcp (tcp.Close), with its CLOSE event")
    .argument("<uuid>", "the connection's uuid (rr-tcp connections lists them)"),
).action((uuid: string, flags: RpcFlags) => run(() => closeCommand(uuid, flags)));

/** The flags of the commands that push bytes. */
function pushFlags(command: Command): Command {
  return rpcFlags(command)
    .option("--base64", "DATA is base64 (standard, padded)")
    .option("--file <path>", "take the bytes from this file instead of DATA (- for stdin)");
}

const DATA_ARGUMENT = ["[data]", "the bytes, as they are (UTF-8; no newline is added)"] as const;

pushFlags(
  program
    .command("write")
    .description(
      "write bytes to one client connection of a running rr-tcp (tcp.Write), after the reply of its event with a worker",
    )
    .argument("<uuid>", "the connection's uuid (rr-tcp connections lists them)")
    .argument(...DATA_ARGUMENT),
)
  .option("--close", "then close the connection, with its CLOSE event (tcp.WriteClose)")
  .action((uuid: string, data: string | undefined, flags: PushFlags & { close?: boolean }) =>
    run(() => writeCommand(uuid, data, flags)),
  );

pushFlags(
  program
    .command("broadcast")
    .description("write bytes to every client connection of one server of a running rr-tcp (tcp.Broadcast)")
    .argument("<server>", "the server's name, a key of tcp.servers")
    .argument(...DATA_ARGUMENT),
).action((server: string, data: string | undefined, flags: PushFlags) =>
  run(() => broadcastCommand(server, data, flags)),
);

await program.parseAsync(process.argv);
