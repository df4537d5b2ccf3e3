export { createApp } from "./http/app.js";
export { startGateway, type Gateway, type StartGatewayOptions } from "./gateway.js";
export type { GatewayDeps } from "./http/deps.js";
export type { AppEnv } from "./http/env.js";
