export { ModelRegistry, type ServedModel, type RegistryLogger, type CreateRegistryOptions } from "./registry.js";
export { ModelPool, ClientAbortError, isClientFault, type PoolSnapshot, type PoolRequestOptions } from "./model-pool.js";
export type { Backend, BackendState } from "./backend.js";
export { LocalBackend } from "./local-backend.js";
export { RemoteBackend } from "./remote-backend.js";
export type { BreakerState } from "./breaker.js";
