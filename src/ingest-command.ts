/**
 * `switchyard ingest <path|file.jsonl|file.csv> --collection NAME`: loads
 * documents, embeds them (the configured embedding model's shards, or the
 * offline embedder), and upserts them
 * into LanceDB with a progress bar (documents, chunks, embeddings/s).
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { SwitchyardConfig } from "./config/index.js";
import { ModelRegistry } from "./router/index.js";
import { loadDirectory, loadFile, type LoadOptions, ragServiceFromConfig } from "./rag/index.js";
import { createLogger } from "./telemetry/logger.js";
import { registryModelHandle } from "./server/embedding-model-handle.js";

export const INGEST_USAGE = `switchyard ingest <path> --collection NAME [--tenant T]
  [--id-column C --text-column C --title-column C --source-column C --metadata-columns a,b]  (CSV)
  [--id-field F --text-field F --title-field F]  (JSONL)`;

function bar(done: number, total: number, width = 28): string {
  const filled = total ? Math.round((done / total) * width) : width;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

export async function ingestCommand(config: SwitchyardConfig, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      collection: { type: "string" },
      tenant: { type: "string", default: "default" },
      "id-column": { type: "string" },
      "text-column": { type: "string" },
      "title-column": { type: "string" },
      "source-column": { type: "string" },
      "metadata-columns": { type: "string" },
      "id-field": { type: "string" },
      "text-field": { type: "string" },
      "title-field": { type: "string" },
    },
  });
  const target = positionals[0];
  if (!target || !values.collection) throw new Error(`usage: ${INGEST_USAGE}`);
  const load: LoadOptions = {
    csv: {
      ...(values["id-column"] ? { idColumn: values["id-column"] } : {}),
      ...(values["text-column"] ? { textColumn: values["text-column"] } : {}),
      ...(values["title-column"] ? { titleColumn: values["title-column"] } : {}),
      ...(values["source-column"] ? { sourceColumn: values["source-column"] } : {}),
      ...(values["metadata-columns"] ? { metadataColumns: values["metadata-columns"].split(",") } : {}),
    },
    jsonl: {
      ...(values["id-field"] ? { idField: values["id-field"] } : {}),
      ...(values["text-field"] ? { textField: values["text-field"] } : {}),
      ...(values["title-field"] ? { titleField: values["title-field"] } : {}),
    },
    onSkip: (p, why) => process.stderr.write(`skipped ${p}: ${why}\n`),
  };
  const docs = (await stat(target)).isDirectory() ? await loadDirectory(target, load) : await loadFile(target, { ...load, id: path.basename(target) });
  process.stderr.write(`loaded ${docs.length} documents from ${target}\n`);

  const logger = createLogger({ level: "warn" });
  const registry = await ModelRegistry.create({ config, logger });
  const { rag, chosen } = ragServiceFromConfig(config, {
    resolve: (name) => registryModelHandle(registry, name),
    warn: (fields, msg) => logger.warn(fields, msg),
  });
  // Only the embedding model's shards are needed; start just that pool (none for the offline embedder).
  if (chosen.source === "model" && config.rag.embeddingModel !== undefined) await registry.resolve(config.rag.embeddingModel)?.pool.start();
  await chosen.warm();
  const started = performance.now();
  try {
    const result = await rag.upsertDocuments(values.tenant, values.collection, docs, (p) => {
      const secs = (performance.now() - started) / 1000;
      process.stderr.write(
        `\r${bar(p.done, p.total)} ${p.done}/${p.total} docs  ${p.chunks} chunks  ${(p.chunks / Math.max(secs, 1e-3)).toFixed(1)} embeddings/s   `,
      );
    });
    const secs = (performance.now() - started) / 1000;
    process.stderr.write("\n");
    console.log(
      JSON.stringify({ collection: values.collection, tenant: values.tenant, ...result, seconds: Math.round(secs * 10) / 10, version: await rag.collectionVersion(values.tenant, values.collection) }),
    );
  } finally {
    await rag.dispose();
    await registry.dispose();
  }
}
