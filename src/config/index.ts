/** Configuration: YAML -> the generated config types, with RoadRunner's defaults and key-path errors. */
export { ConfigError, ConfigFileError, formatIssue, type ConfigIssue } from "./errors.js";
export {
  loadConfigFile,
  parseConfig,
  parseConfigData,
  readConfigFileData,
  readConfigText,
  resolveConfig,
  type LoadedConfig,
  type LoadOptions,
} from "./load.js";
export { applyDefaults, workerCommand } from "./defaults.js";
export { processCount, processShare, processShareIssues, relayOfProcess, shareOf } from "./process-shares.js";
export { formatGoDuration, parseGoDurationNanos } from "../options/duration.js";
export { expandEnv, type EnvLookup } from "./expand-env.js";
export { formatConfig, formatConfigYaml } from "./format.js";
export { defaultConfigData, loadDefaultConfig, packageRoot } from "./default-config.js";
