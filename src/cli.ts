#!/usr/bin/env node
/**
 * The `rr-tcp` command.
 *
 *   rr-tcp serve [-c .rr.yaml] [--log-level debug|info|warn|error]
 *   rr-tcp validate -c .rr.yaml
 *   rr-tcp --version           rr-tcp 1.0.0 (schema rr.tcp.v1 1.0.0): the package and the schema it speaks
 *
 * Without `-c`, `serve` runs the built-in default (server `main` on 127.0.0.1:7000, two echo
 * workers); `npm start` runs exactly that. Logs are pino JSON lines on stderr: stdout stays free
 * for command output (`validate` prints the resolved config there), and workers never share
 * either stream with the server (their stdout is the relay, their stderr is logged by the pool).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import pino, { type Logger } from "pino";
import {
  ConfigError,
  ConfigFileError,
  formatConfigYaml,
  formatIssue,
  loadConfigFile,
  loadDefaultConfig,
  packageRoot,
  type LoadedConfig,
} from "./config/index.js";
import { LOG_LEVELS } from "./config/schema.js";
import { errorCode, errorMessage } from "./errors.js";
import { WorkerPool } from "./pool/index.js";
import { SCHEMA_PACKAGE, SCHEMA_VERSION } from "./protocol/index.js";
import { Service } from "./service/service.js";
import { exitOnSignals } from "./service/signals.js";

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Loads the config, or prints why it cannot be loaded and exits 1. */
async function load(file: string | undefined): Promise<LoadedConfig> {
  try {
    return file === undefined ? loadDefaultConfig() : await loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ConfigFileError) {
      process.stderr.write(`rr-tcp: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

function createLogger(level: string): Logger {
  const pinoLevel = level === "dpanic" || level === "panic" ? "fatal" : level;
  // Synchronous: lines written just before process.exit() are not lost. errWithCause nests an
  // error's cause instead of appending its message: rr-tcp's messages already quote their cause,
  // and pino's default serializer would repeat it once per level of the chain.
  return pino(
    { level: pinoLevel, base: { pid: process.pid }, serializers: { err: pino.stdSerializers.errWithCause } },
    pino.destination({ dest: 2, sync: true }),
  );
}

async function serve(options: { config?: string; logLevel?: string }): Promise<void> {
  const loaded = await load(options.config);
  const logger = createLogger(options.logLevel ?? loaded.config.logs?.level ?? "info");
  logger.info(
    { config: loaded.file ?? "(built-in default config)", base_dir: loaded.baseDir },
    `rr-tcp ${version()} starting`,
  );
  const starting = Service.start(loaded, logger, (poolOptions) => WorkerPool.start(poolOptions));
  // Installed before the start completes: a signal during start-up stops what has started.
  exitOnSignals(async () => (await starting.catch(() => undefined))?.stop(), { logger });
  let service: Service;
  try {
    service = await starting;
  } catch (err) {
    logger.error({ err, code: errorCode(err) }, `rr-tcp could not start: ${errorMessage(err)}`);
    process.exit(1);
  }
  logger.info({ servers: service.server.addresses() }, "rr-tcp ready");
}

async function validate(options: { config: string }): Promise<void> {
  const loaded = await load(options.config);
  for (const warning of loaded.warnings) process.stderr.write(`warning: ${formatIssue(warning)}\n`);
  process.stdout.write(formatConfigYaml(loaded.config));
}

const program = new Command("rr-tcp")
  .description(
    "RoadRunner-compatible TCP application server: client connections become CONNECTED / DATA / CLOSE events for worker processes",
  )
  // The package's version and the schema's: rr-tcp 1.0.0 (schema rr.tcp.v1 1.0.0).
  .version(`rr-tcp ${version()} (schema ${SCHEMA_PACKAGE} ${SCHEMA_VERSION})`, "-v, --version")
  .showHelpAfterError();

program
  .command("serve")
  .description("run the TCP servers and their worker pool (SIGTERM/SIGINT: graceful stop; twice: exit now)")
  .option(
    "-c, --config <file>",
    "RoadRunner-style .rr.yaml (default: built-in, server main on 127.0.0.1:7000 with echo workers)",
  )
  .addOption(new Option("--log-level <level>", "log level (overrides logs.level)").choices(LOG_LEVELS))
  .action(serve);

program
  .command("validate")
  .description("load a config, print it resolved (defaults applied) on stdout, or its errors on stderr and exit 1")
  .requiredOption("-c, --config <file>", "the .rr.yaml to check")
  .action(validate);

await program.parseAsync(process.argv);
