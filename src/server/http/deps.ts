/** What the HTTP layer needs from the rest of the gateway. */
import type { SwitchyardConfig } from "../../config/index.js";
import type { ModelRegistry } from "../../router/index.js";
import type { Logger } from "../../telemetry/logger.js";
import type { ResponseCache, SemanticCache } from "../../cache/index.js";
import type { GenerationResult } from "../../types.js";
import type { RagService } from "../../rag/index.js";
import type { VectorStoreService } from "../../rag/vector-stores/index.js";
import type { KeyLimiter } from "./rate-limiter.js";
import type { ResponseStore } from "../responses/index.js";
import type { Guardrails } from "../../guardrails/index.js";
import type { KeyRevocations } from "./key-revocations.js";
import type { RequestDrain } from "./drain.js";
import type { ConfigVersion, ReloadResult } from "../config-reload.js";

export interface GatewayDeps {
  config: SwitchyardConfig;
  registry: ModelRegistry;
  logger: Logger;
  /** Response cache; absent = every request bypasses. */
  cache?: ResponseCache<GenerationResult> | undefined;
  /** Semantic cache (opt-in per key and bot, `cache.semantic`); absent = never consulted. */
  semanticCache?: SemanticCache;
  /** PII guardrails; absent = no request is scanned. */
  guardrails?: Guardrails | undefined;
  /** Retrieval; absent = collection endpoints answer 503. */
  rag?: RagService | undefined;
  /** Stored Responses-API responses; absent = an in-memory store from config `responses` (created by the app). */
  responses?: ResponseStore | undefined;
  /** OpenAI files and vector stores over collections; absent = those endpoints answer 503. */
  vectorStores?: VectorStoreService | undefined;
  /**
   * The graceful shutdown: once draining, readiness answers 503 and new API requests 503 + `Retry-After`;
   * at its deadline running streams and queued requests are ended. Absent = the app never drains.
   */
  drain?: RequestDrain | undefined;
  /** Per-key limits shared across replicas (config `redis.url`); absent = in memory, built from `auth.keys`. */
  limiter?: KeyLimiter | undefined;
  /** Run-time API-key revocations shared across replicas (config `redis.url`); absent = a list in this process. */
  revocations?: KeyRevocations | undefined;
  /** The config served (shown by /v1/status); absent in apps built without a gateway. */
  configVersion?: ConfigVersion | undefined;
  /** Applies the config again from its source (`POST /v1/admin/reload`); absent = that route answers 503. */
  reload?: (() => Promise<ReloadResult>) | undefined;
}
