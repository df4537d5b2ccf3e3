/**
 * Puts a scenario's fixture documents into its collection before the load,
 * so `npm run loadtest -- rag` works against a fresh local gateway.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { SeedSpec } from "../scenarios/types.js";
import { requestHeaders, type Target } from "./request.js";
import { SCENARIOS_DIR } from "./scenario.js";

/**
 * Upserts (idempotent: unchanged documents are skipped by the gateway).
 * @example await seedCollection({ baseUrl: gw.url }, { collection: "support", documents: "data/support-kb.json" });
 */
export async function seedCollection(target: Target, seed: SeedSpec): Promise<{ documents: number }> {
  const file = path.resolve(SCENARIOS_DIR, seed.documents);
  if (!file.startsWith(SCENARIOS_DIR + path.sep)) throw new Error(`seed documents must stay under loadtest/scenarios: ${seed.documents}`);
  const documents = JSON.parse(await readFile(file, "utf8")) as unknown[];
  const res = await fetch(`${target.baseUrl}/v1/collections/${encodeURIComponent(seed.collection)}/documents`, {
    method: "POST",
    headers: requestHeaders(target),
    body: JSON.stringify({ documents }),
    signal: AbortSignal.timeout(120_000),
  });
  if (!res.ok) throw new Error(`seeding collection '${seed.collection}' answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  await res.body?.cancel();
  return { documents: documents.length };
}
