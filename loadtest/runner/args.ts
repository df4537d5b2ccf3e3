/**
 * Command line of `npm run loadtest`. Flags win over the environment variables
 * the k6 scripts read (BASE_URL, API_KEY, MODEL, DURATION_SCALE, RATE_SCALE).
 */
import { parseArgs } from "node:util";
import type { LocalGatewaySpec } from "../scenarios/types.js";
import { parseDuration } from "./duration.js";

export const USAGE = `Usage: npm run loadtest -- <scenario | file.json> [options]

Runs a scenario from loadtest/scenarios with the Node load generator and writes
results/<scenario>-<timestamp>.{json,html,png}. Without --base-url it starts its
own gateway in-process on the generated tiny model.

Options:
  --base-url URL        gateway origin (env BASE_URL); loopback only unless --allow-remote
  --api-key KEY         bearer key (env API_KEY)
  --model NAME          overrides the scenario's model (env MODEL)
  --duration-scale X    multiply durations, e.g. 0.1 for a rehearsal (env DURATION_SCALE)
  --rate-scale X        multiply arrival rates (env RATE_SCALE)
  --max-in-flight N     cap on requests in flight (default: the scenario's maxVUs)
  --graceful-stop D     time in-flight requests get after the last arrival (default 30s × scale, ≥ 5s)
  --out DIR             where results go (default results)
  --allow-remote        permit a non-loopback --base-url
  --seed                upsert the scenario's seed documents into the target first
                        (always done for the in-process gateway)
  --shards N --slots N --context-size N --queue-depth N
                        knobs of the in-process gateway (override the scenario's localGateway)
  --list                list the scenarios
  --quiet               no progress lines
`;

export interface CliOptions {
  scenario: string | undefined;
  baseUrl: string | undefined;
  apiKey: string | undefined;
  model: string | undefined;
  durationScale: number;
  rateScale: number;
  maxInFlight: number | undefined;
  gracefulStopMs: number | undefined;
  outDir: string;
  allowRemote: boolean;
  seed: boolean;
  localGateway: LocalGatewaySpec;
  list: boolean;
  quiet: boolean;
  help: boolean;
}

function positive(raw: string | undefined, name: string, integer = false): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`${name} must be a positive ${integer ? "integer" : "number"}, got '${raw}'`);
  return n;
}

/**
 * @example parseCli(["smoke", "--duration-scale", "0.1"], {}).durationScale // 0.1
 */
export function parseCli(argv: string[], env: Record<string, string | undefined>): CliOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "base-url": { type: "string" },
      "api-key": { type: "string" },
      model: { type: "string" },
      "duration-scale": { type: "string" },
      "rate-scale": { type: "string" },
      "max-in-flight": { type: "string" },
      "graceful-stop": { type: "string" },
      out: { type: "string" },
      "allow-remote": { type: "boolean" },
      seed: { type: "boolean" },
      shards: { type: "string" },
      slots: { type: "string" },
      "context-size": { type: "string" },
      "queue-depth": { type: "string" },
      list: { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (positionals.length > 1) throw new Error(`one scenario at a time (got ${positionals.join(", ")})`);
  const queueDepth = values["queue-depth"];
  const localGateway: LocalGatewaySpec = {};
  const shards = positive(values.shards, "--shards", true);
  const slots = positive(values.slots, "--slots", true);
  const contextSize = positive(values["context-size"], "--context-size", true);
  if (shards) localGateway.shards = shards;
  if (slots) localGateway.slots = slots;
  if (contextSize) localGateway.contextSize = contextSize;
  if (queueDepth !== undefined) {
    const depth = Number(queueDepth);
    if (!Number.isInteger(depth) || depth < 0) throw new Error(`--queue-depth must be a non-negative integer, got '${queueDepth}'`);
    localGateway.queueMaxDepth = depth;
  }
  return {
    scenario: positionals[0],
    baseUrl: values["base-url"] ?? (env.BASE_URL || undefined),
    apiKey: values["api-key"] ?? (env.API_KEY || undefined),
    model: values.model ?? (env.MODEL || undefined),
    durationScale: positive(values["duration-scale"] ?? env.DURATION_SCALE, "--duration-scale") ?? 1,
    rateScale: positive(values["rate-scale"] ?? env.RATE_SCALE, "--rate-scale") ?? 1,
    maxInFlight: positive(values["max-in-flight"], "--max-in-flight", true),
    gracefulStopMs: values["graceful-stop"] === undefined ? undefined : parseDuration(values["graceful-stop"]),
    outDir: values.out ?? "results",
    allowRemote: values["allow-remote"] === true,
    seed: values.seed === true,
    localGateway,
    list: values.list === true,
    quiet: values.quiet === true,
    help: values.help === true,
  };
}
