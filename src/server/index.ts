export { createApp } from "./app.js";
export { startGateway, type Gateway, type StartGatewayOptions } from "./gateway.js";
export type { GatewayDeps } from "./deps.js";
export type { AppEnv } from "./env.js";
