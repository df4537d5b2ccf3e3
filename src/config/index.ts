export { loadConfig, configFilePath, threadsPerShard, ConfigError, DEFAULT_CONFIG_PATH, type LoadConfigOptions } from "./load.js";
export {
  configSchema,
  modelSchema,
  botSchema,
  adapterSchema,
  adapterAliasSchema,
  modelNames,
  plainAliases,
  adapterAliases,
  type SwitchyardConfig,
  type ModelConfig,
  type BotConfig,
  type AdapterConfig,
  type AdapterAliasConfig,
} from "./schema.js";
export { effectivePiiPolicy, effectiveSemanticPolicy, type ResolvedPiiPolicy, type ResolvedSemanticPolicy } from "./policies.js";
