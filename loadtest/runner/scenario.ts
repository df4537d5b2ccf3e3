/**
 * Loads `loadtest/scenarios/<name>.json`, validates it against the shared
 * {@link Scenario} shape, and scales it for a run (duration and rate scales).
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { LoadSpec, Scenario } from "../scenarios/types.js";
import { parseDuration } from "./duration.js";

export type { Scenario };

/** Where the scenario files live. */
export const SCENARIOS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../scenarios");

const duration = z.string().refine((d) => {
  try {
    parseDuration(d);
    return true;
  } catch {
    return false;
  }
}, "a k6 duration such as 30s, 2m or 1m30s");
const count = z.number().int().positive();
const rate = z.number().nonnegative();

const loadSchema = z.discriminatedUnion("executor", [
  z.strictObject({ executor: z.literal("per-vu-iterations"), vus: count, iterations: count, maxDuration: duration }),
  z.strictObject({
    executor: z.literal("constant-arrival-rate"),
    rate,
    timeUnit: duration,
    duration,
    preAllocatedVUs: count,
    maxVUs: count,
  }),
  z.strictObject({
    executor: z.literal("ramping-arrival-rate"),
    startRate: rate,
    timeUnit: duration,
    stages: z.array(z.strictObject({ target: rate, duration })).min(1),
    preAllocatedVUs: count,
    maxVUs: count,
  }),
]);

const statuses = z.array(z.number().int().min(100).max(599));

const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string(),
  request: z.strictObject({
    path: z.enum(["/v1/chat/completions", "/v1/completions"]),
    body: z.record(z.string(), z.unknown()),
    variants: z.array(z.record(z.string(), z.unknown())).optional(),
    system: z.string().optional(),
    prompts: z.array(z.string()).min(1),
    uniquePrompts: z.boolean().optional(),
  }),
  load: loadSchema,
  slo: z.strictObject({ ttftMs: z.number().positive(), tpotMs: z.number().positive(), e2eMs: z.number().positive().optional() }),
  thresholds: z.record(z.string(), z.array(z.string())),
  expect: z.strictObject({ okStatuses: statuses.min(1), toleratedStatuses: statuses, retryAfterOn: statuses }),
  localGateway: z
    .strictObject({ shards: count.optional(), maxShards: z.number().int().nonnegative().optional(), slots: count.optional(), contextSize: count.optional(), queueMaxDepth: z.number().int().nonnegative().optional() })
    .optional(),
  seed: z.strictObject({ collection: z.string().min(1), documents: z.string().regex(/^[\w./-]+\.json$/) }).optional(),
});

// Compile-time guard: the validator and the shared type must describe the same thing.
type Parsed = z.infer<typeof scenarioSchema>;
const _sameShape: [Parsed extends Scenario ? true : false, Scenario extends Parsed ? true : false] = [true, true];
void _sameShape;

/**
 * Parses and validates scenario JSON text.
 * @example parseScenario(await readFile("loadtest/scenarios/smoke.json", "utf8"), "smoke.json")
 */
export function parseScenario(text: string, source: string): Scenario {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`${source}: ${issues}`);
  }
  return parsed.data;
}

/**
 * A scenario by name (`smoke`) or by path to a JSON file.
 * @example const scenario = await loadScenario("steady");
 */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const file = nameOrPath.endsWith(".json") ? path.resolve(nameOrPath) : path.join(SCENARIOS_DIR, `${nameOrPath}.json`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(`no scenario '${nameOrPath}' (known: ${(await listScenarios()).join(", ")})`);
  }
  return parseScenario(text, path.basename(file));
}

/** Names of the scenario files shipped in loadtest/scenarios. @example await listScenarios() // ["cache", "rag", ...] */
export async function listScenarios(): Promise<string[]> {
  return (await readdir(SCENARIOS_DIR))
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

export interface ScaleOptions {
  /** Multiplies every duration of an arrival-rate executor (not smoke's fixed iterations). */
  durationScale: number;
  /** Multiplies every arrival rate. */
  rateScale: number;
}

/**
 * The same scenario, shortened and/or slowed: what `--duration-scale 0.1` runs.
 * @example scaleScenario(steady, { durationScale: 0.1, rateScale: 1 }).load // duration "12000ms"
 */
export function scaleScenario(scenario: Scenario, { durationScale, rateScale }: ScaleOptions): Scenario {
  const d = (text: string) => `${Math.max(1, Math.round(parseDuration(text) * durationScale))}ms`;
  const load: LoadSpec = ((l): LoadSpec => {
    switch (l.executor) {
      case "per-vu-iterations":
        return l;
      case "constant-arrival-rate":
        return { ...l, rate: l.rate * rateScale, duration: d(l.duration) };
      case "ramping-arrival-rate":
        return { ...l, startRate: l.startRate * rateScale, stages: l.stages.map((s) => ({ target: s.target * rateScale, duration: d(s.duration) })) };
    }
  })(scenario.load);
  return { ...scenario, load };
}
