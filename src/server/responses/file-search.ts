/**
 * The Responses API's `file_search` tool, run by the gateway before the model:
 * one search over the tenant's vector stores (another tenant's or an unknown
 * store id is a 404, as a direct search), whose chunks ground the answer as
 * numbered sources. What it found becomes the `file_search_call` output item
 * and the `file_citation` annotations (render.ts).
 */
import { invalidRequest } from "../../errors.js";
import type { RagService } from "../../rag/index.js";
import type { VectorStoreService } from "../../rag/vector-stores/index.js";
import type { RetrievedPassage } from "../../types.js";
import type { GroundingRequest } from "../generation/index.js";
import type { FileSearchResult } from "./items.js";
import type { FileSearchTool } from "./schemas.js";

/**
 * Chunks the model sees when the tool gives no `max_num_results` (as many as a grounded chat's
 * default `top_k`): OpenAI's larger default would overflow a small local model's context.
 */
export const FILE_SEARCH_DEFAULT_RESULTS = 4;

export interface FileSearchRun {
  /** The pipeline's grounding step for this search. */
  grounding: GroundingRequest;
  /**
   * The `file_search_call` results for the passages the prompt holds (result i is source [i+1]):
   * their text and filename as the model saw them (redacted when the guardrails are on).
   */
  results(passages: readonly RetrievedPassage[]): FileSearchResult[];
}

/**
 * @example
 * ```ts
 * const run = fileSearchRun({ vectorStores: deps.vectorStores, rag: deps.rag }, tenant, { type: "file_search", vector_store_ids: ["vs_…"] });
 * runGeneration(c, deps, { ...plan, grounding: run.grounding, renderer: () => responsesRenderer({ ...ctx, fileSearch: { queries, results: run.results(retrieval.passages), includeResults } }, save) });
 * ```
 */
export function fileSearchRun(services: { vectorStores?: VectorStoreService | undefined; rag?: RagService | undefined }, tenant: string, tool: FileSearchTool): FileSearchRun {
  const { vectorStores, rag } = services;
  if (!vectorStores || !rag) throw invalidRequest("The file_search tool needs retrieval, which is not enabled on this server.", { param: "tools" });
  let found: Array<Pick<FileSearchResult, "file_id" | "attributes">> = [];
  const ids = tool.vector_store_ids;
  return {
    results: (passages) =>
      passages.flatMap((p, i) => {
        const hit = found[i];
        return hit ? [{ file_id: hit.file_id, filename: p.title, text: p.text, score: p.score, attributes: hit.attributes }] : [];
      }),
    grounding: {
      tenant,
      collection: `file_search:${ids.join(",")}`,
      topK: tool.max_num_results ?? FILE_SEARCH_DEFAULT_RESULTS,
      search: async (query) => {
        const hits = await vectorStores.fileSearch(tenant, {
          vector_store_ids: ids,
          query,
          max_num_results: tool.max_num_results ?? FILE_SEARCH_DEFAULT_RESULTS,
          ...(tool.filters == null ? {} : { filters: tool.filters }),
          ...(tool.ranking_options?.score_threshold === undefined ? {} : { score_threshold: tool.ranking_options.score_threshold }),
        });
        found = hits.map((h) => ({ file_id: h.file_id, attributes: h.attributes }));
        const passages: RetrievedPassage[] = hits.map((h, i) => ({
          index: i + 1,
          documentId: h.file_id,
          chunkId: `${h.vector_store_id}/${h.file_id}/${i}`,
          title: h.filename,
          source: h.filename,
          text: h.text,
          score: h.score,
          metadata: { file_id: h.file_id, vector_store_id: h.vector_store_id },
        }));
        const versions = await Promise.all(ids.map(async (id) => `${id}:${await rag.collectionVersion(tenant, id)}`));
        return { passages, version: versions.join(",") };
      },
    },
  };
}
