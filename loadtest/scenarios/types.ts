/**
 * The shape of `loadtest/scenarios/<name>.json`: one definition serves every
 * runner. The k6 scripts `open()` the JSON and import these types through JSDoc;
 * the Node runner validates the JSON against them (see `runner/scenario.ts`).
 * Pure types only: this file is type-checked both with the k6 typings and the
 * project's Node typings, so it must not import anything.
 *
 * Durations are k6 strings ("500ms", "30s", "2m", "1m30s"); rates are
 * iterations per `timeUnit`, as in k6's arrival-rate executors.
 *
 * @example
 * ```json
 * { "name": "steady", "request": { "path": "/v1/chat/completions", "body": { "max_tokens": 64 }, "prompts": ["Hi"] },
 *   "load": { "executor": "constant-arrival-rate", "rate": 4, "timeUnit": "1s", "duration": "2m", "preAllocatedVUs": 8, "maxVUs": 64 },
 *   "slo": { "ttftMs": 1000, "tpotMs": 100 }, "thresholds": { "http_req_failed": ["rate<0.01"] },
 *   "expect": { "okStatuses": [200], "toleratedStatuses": [429, 503], "retryAfterOn": [429, 503] } }
 * ```
 */

/** One k6 stage of a ramping-arrival-rate executor. */
export interface Stage {
  /** Arrival rate per `timeUnit` reached at the end of the stage (linear ramp). */
  target: number;
  duration: string;
}

/** Closed model: `vus` users each run `iterations` requests back to back (smoke). */
export interface PerVuIterationsLoad {
  executor: "per-vu-iterations";
  vus: number;
  iterations: number;
  /** Safety cap on the whole run; not scaled by the duration scale. */
  maxDuration: string;
}

/** Open model: requests start on a fixed schedule whatever the responses do. */
export interface ConstantArrivalRateLoad {
  executor: "constant-arrival-rate";
  rate: number;
  timeUnit: string;
  duration: string;
  preAllocatedVUs: number;
  /** Cap on requests in flight; arrivals past it are dropped (k6 `dropped_iterations`). */
  maxVUs: number;
}

/** Open model with a piecewise-linear arrival rate (ramp to the knee, spikes). */
export interface RampingArrivalRateLoad {
  executor: "ramping-arrival-rate";
  startRate: number;
  timeUnit: string;
  stages: Stage[];
  preAllocatedVUs: number;
  maxVUs: number;
}

export type LoadSpec = PerVuIterationsLoad | ConstantArrivalRateLoad | RampingArrivalRateLoad;

/** What each request is. */
export interface RequestSpec {
  /** `/v1/chat/completions` (messages) or `/v1/completions` (prompt). */
  path: "/v1/chat/completions" | "/v1/completions";
  /**
   * The OpenAI body minus `messages`/`prompt`, sent as-is (extension fields such
   * as `rag` included). `model` defaults to "default"; the MODEL env overrides it.
   */
  body: Record<string, unknown>;
  /** Merged over `body` round-robin by iteration number (e.g. stream and non-stream). */
  variants?: Array<Record<string, unknown>> | undefined;
  /** Optional system message for chat requests. */
  system?: string | undefined;
  /** User messages (chat) or prompts (completions), taken in order by iteration number. */
  prompts: string[];
  /**
   * Append " (#<iteration>)" to every prompt so no two requests are identical:
   * a response cache then cannot flatter the numbers. Default false.
   */
  uniquePrompts?: boolean | undefined;
}

/** The service-level objective that defines goodput. */
export interface Slo {
  /** Time to first token, queue included. */
  ttftMs: number;
  /** Time per output token after the first. */
  tpotMs: number;
  /** End-to-end latency; unset = no bound. */
  e2eMs?: number | undefined;
}

/** The response contract. */
export interface Expectations {
  /** Statuses that are successes. */
  okStatuses: number[];
  /** Failures that are still correct behaviour (overload answered properly). Anything else is a contract violation. */
  toleratedStatuses: number[];
  /** Statuses that must carry a `Retry-After` header. */
  retryAfterOn: number[];
}

/** Gateway knobs the Node runner uses when it starts its own gateway; ignored against a deployment. */
export interface LocalGatewaySpec {
  shards?: number | undefined;
  /** Above `shards`: the gateway autoscales between the two (0 or absent: a fixed `shards`). */
  maxShards?: number | undefined;
  slots?: number | undefined;
  contextSize?: number | undefined;
  queueMaxDepth?: number | undefined;
}

/**
 * Documents upserted before the load (`POST /v1/collections/{collection}/documents`):
 * by the Node runner when it starts its own gateway or with `--seed`, by k6 with `-e SEED=1`.
 */
export interface SeedSpec {
  collection: string;
  /** A JSON file of `[{ "id", "title"?, "text" }]`, relative to loadtest/scenarios. */
  documents: string;
}

export interface Scenario {
  name: string;
  description: string;
  request: RequestSpec;
  load: LoadSpec;
  slo: Slo;
  /**
   * k6 threshold expressions by metric name, e.g. `{"switchyard_ttft_ms": ["p(90)<1000"]}`.
   * Metric names are listed in loadtest/README.md; both runners evaluate them.
   */
  thresholds: Record<string, string[]>;
  expect: Expectations;
  localGateway?: LocalGatewaySpec | undefined;
  seed?: SeedSpec | undefined;
}
