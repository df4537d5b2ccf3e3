export { ModelRegistry, type ServedModel, type RegistryLogger, type CreateRegistryOptions } from "./registry.js";
export {
  ModelPool,
  type PoolSnapshot,
  type PoolRequestOptions,
  type PoolObserver,
  type PoolRequestObserver,
  type PoolRequestInfo,
  type PoolEmbedObserver,
  type LoadState,
  type LoadSnapshot,
} from "./model-pool.js";
export { HostBudget, type HostBudgetOptions, type BudgetedModel } from "./host-budget.js";
export { BackendError, type Backend, type BackendState, type BackendErrorCode, type BackendGenerateOptions } from "./backend.js";
export { isClientFault, toClientError } from "./backend-errors.js";
export { LocalBackend } from "./local-backend.js";
export { RemoteBackend } from "./remote-backend.js";
export type { BreakerState } from "./breaker.js";
export type { SharedRouting, SharedBreakerState, SharedAffinity } from "./shared-routing.js";
export { DnsDiscovery, systemResolver, type HostResolver } from "./dns-discovery.js";
