/** Configuration: YAML -> the generated config types, with RoadRunner's defaults and key-path errors. */
export { ConfigError, ConfigFileError, formatIssue, type ConfigIssue } from "./errors.js";
export { loadConfigFile, parseConfig, resolveConfig, type LoadedConfig, type LoadOptions } from "./load.js";
export {
  applyDefaults,
  workerCommand,
  DEFAULT_DELIMITER,
  DEFAULT_LENGTH_BYTES,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_POOL_TIMEOUT,
  DEFAULT_READ_BUF_SIZE_MB,
  DEFAULT_RELAY,
  DEFAULT_WATCH_TICK,
} from "./defaults.js";
export { formatGoDuration, parseGoDurationNanos } from "./duration.js";
export { expandEnv, type EnvLookup } from "./expand-env.js";
export { formatConfig, formatConfigYaml } from "./format.js";
export { defaultConfigData, loadDefaultConfig, packageRoot } from "./default-config.js";
