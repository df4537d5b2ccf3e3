export { loadConfig, threadsPerShard, ConfigError, DEFAULT_CONFIG_PATH, type LoadConfigOptions } from "./load.js";
export { configSchema, modelSchema, botSchema, type SwitchyardConfig, type ModelConfig, type BotConfig } from "./schema.js";
