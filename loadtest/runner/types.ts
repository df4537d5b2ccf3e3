/**
 * What a run produces: one record per request, a summary, and the series the
 * report draws. The JSON file under results/ is a {@link RunResult}.
 */
import type { LocalGatewaySpec, Scenario, Slo } from "../scenarios/types.js";

/** The gateway's own timings (`switchyard` block on the body or the usage chunk). */
export interface SwitchyardBlock {
  queue_ms: number;
  ttft_ms: number;
  decode_ms: number;
  cached_prompt_tokens: number;
  shard: string;
  cache: string;
}

export interface RequestRecord {
  /** Iteration number: picks the prompt and the variant. */
  i: number;
  /** Planned start, ms from the beginning of the run (open model). */
  scheduledMs: number;
  /** Actual start; later than `scheduledMs` only if the load generator fell behind. */
  startMs: number;
  /** Requests in flight when this one started, itself included. */
  inFlight: number;
  stream: boolean;
  /** HTTP status; 0 when no response came (connection error, timeout). */
  status: number;
  ok: boolean;
  /** Cut at the end of the run's graceful stop: excluded from latency and error rates (as k6 does). */
  interrupted: boolean;
  /** Error message (OpenAI envelope message, stream error event, or network error). */
  error?: string;
  errorCode?: string;
  retryAfter?: string;
  /** Client-side: request start to first output text (streamed requests only). */
  ttftMs?: number;
  /** Client-side: request start to the last byte. */
  e2eMs: number;
  /** Client-side: (e2e - ttft) / (output tokens - 1), streamed requests only. */
  tpotMs?: number;
  /** Mean and largest gap between chunks carrying text (streamed requests only). */
  itlMeanMs?: number;
  itlMaxMs?: number;
  /** Chunks that carried output text. */
  chunks: number;
  promptTokens?: number;
  outputTokens: number;
  switchyard?: SwitchyardBlock;
  /** A success within the scenario's SLO (counts toward goodput). */
  sloMet: boolean;
  /** Names of the contract checks this response failed. */
  violations: string[];
}

/** p50/p90/p99 and friends of one latency, in ms. */
export interface Distribution {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  /** The aggregated value compared; undefined when skipped. */
  value?: number;
  /** undefined = skipped (metric unknown to this runner, or no samples). */
  passed?: boolean;
  note?: string;
}

export interface Summary {
  requests: {
    /** Requests that completed or failed (interrupted ones excluded). */
    total: number;
    ok: number;
    failed: number;
    /** Arrivals skipped because the in-flight cap was reached (k6 `dropped_iterations`). */
    dropped: number;
    interrupted: number;
    /** Count by HTTP status; "0" = no response. */
    byStatus: Record<string, number>;
    /** Distinct failures, most frequent first. */
    errors: Array<{ status: number; code?: string; message: string; count: number }>;
    contractViolations: number;
    /** Failed contract checks by name. */
    violationsByCheck: Record<string, number>;
  };
  latencyMs: {
    /** Client-side TTFT for streamed requests; gateway-reported (queue + ttft) for the others. */
    ttft: Distribution | null;
    tpot: Distribution | null;
    itl: Distribution | null;
    e2e: Distribution | null;
    /** From the switchyard block: queue_ms + ttft_ms. */
    serverTtft: Distribution | null;
    serverTpot: Distribution | null;
    queue: Distribution | null;
  };
  throughput: {
    /** Wall time from the first start to the last completion. */
    durationS: number;
    requestsPerS: number;
    outputTokens: number;
    outputTokensPerS: number;
  };
  goodput: { slo: Slo; requestsPerS: number; fraction: number };
  /** `switchyard.cache` values of successful responses. */
  cache: Record<string, number>;
  /** Ramping loads: the highest offered rate reached before arrivals stopped meeting the SLO (under 90% of a bucket's arrivals). */
  knee?: {
    offeredRps: number;
    goodputRps: number;
    atS: number;
    /** False when the SLO held to the end: the knee lies beyond the ramp. */
    sloBroke: boolean;
  };
  thresholds: ThresholdResult[];
  /** Every evaluated threshold passed. */
  passed: boolean;
}

/** One time bucket of the run, for the charts. */
export interface TimelineBucket {
  /** Bucket start, seconds from the beginning. */
  tS: number;
  widthS: number;
  offeredRps: number;
  /** Requests started per second (dropped arrivals excluded). */
  startedRps: number;
  /** Of the arrivals in this bucket (dropped ones included), the share that met the SLO. */
  sloMetFraction?: number;
  completedRps: number;
  goodputRps: number;
  errorRps: number;
  outputTokensPerS: number;
  meanInFlight: number;
  /** Mean shards in the model's pool (a local gateway with autoscaling; absent against a deployment). */
  meanShards?: number;
  /** Latencies of requests that started in this bucket. */
  ttftP50?: number;
  ttftP90?: number;
  ttftP95?: number;
  ttftP99?: number;
  e2eP50?: number;
  e2eP90?: number;
  e2eP99?: number;
}

export interface RunResult {
  version: 1;
  scenario: Scenario;
  target: {
    baseUrl: string;
    /** True when the runner started its own gateway on the generated tiny model. */
    local: boolean;
    localGateway?: LocalGatewaySpec;
    model: string;
  };
  options: { durationScale: number; rateScale: number; maxInFlight: number; gracefulStopMs: number };
  startedAt: string;
  finishedAt: string;
  summary: Summary;
  timeline: TimelineBucket[];
  /** [ms from start, requests in flight], sampled every 100 ms. */
  inFlightSamples: Array<[number, number]>;
  /** Every request, in start order. */
  records: RequestRecord[];
}
