/**
 * The gateway's server: HTTP plumbing (`http/`), wire formats (`openai/`),
 * the generation pipeline (`generation/`), routes and the process lifecycle.
 */
export { createApp, type AppTelemetry } from "./http/index.js";
export { startGateway, type Gateway, type StartGatewayOptions } from "./gateway.js";
export type { GatewayDeps } from "./http/deps.js";
export type { AppEnv, AppVariables } from "./http/env.js";
