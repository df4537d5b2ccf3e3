export { loadConfig, threadsPerShard, ConfigError, DEFAULT_CONFIG_PATH, type LoadConfigOptions } from "./load.js";
export { configSchema, modelSchema, type SwitchyardConfig, type ModelConfig } from "./schema.js";
