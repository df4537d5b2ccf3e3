/**
 * LangChain.js adapter: a `BaseRetriever` over a Switchyard collection, so
 * chains and agents can use the same hybrid retrieval as the gateway.
 */
import type { CallbackManagerForRetrieverRun } from "@langchain/core/callbacks/manager";
import { Document } from "@langchain/core/documents";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import type { SearchFilter } from "./filters.js";
import type { SearchMode } from "./search.js";
import type { RagService } from "./service.js";

/** Metadata on each returned `Document`. */
export interface SwitchyardDocumentMetadata extends Record<string, unknown> {
  document_id: string;
  chunk_id: string;
  title: string;
  source: string;
  score: number;
  /** 1-based rank, the `[n]` a grounded prompt would use. */
  index: number;
  /** The document's own metadata. */
  metadata: Record<string, unknown>;
}

export interface SwitchyardRetrieverInput extends BaseRetrieverInput {
  service: Pick<RagService, "search">;
  tenant: string;
  collection: string;
  /** Default 4. */
  topK?: number;
  /** Default `hybrid`. */
  mode?: SearchMode;
  filter?: SearchFilter;
}

/**
 * Retrieves passages from one tenant's collection as LangChain documents.
 *
 * @example
 * ```ts
 * const retriever = new SwitchyardRetriever({ service: rag, tenant: "default", collection: "kb", topK: 4 });
 * const docs = await retriever.invoke("how do I reset my password?");
 * docs[0]?.metadata.document_id; // "account/password.md"
 * ```
 */
export class SwitchyardRetriever extends BaseRetriever<SwitchyardDocumentMetadata> {
  lc_namespace = ["switchyard", "retrievers"];

  private readonly service: Pick<RagService, "search">;
  private readonly tenant: string;
  private readonly collection: string;
  private readonly topK: number;
  private readonly mode: SearchMode;
  private readonly filter: SearchFilter | undefined;

  constructor(fields: SwitchyardRetrieverInput) {
    super(fields);
    this.service = fields.service;
    this.tenant = fields.tenant;
    this.collection = fields.collection;
    this.topK = fields.topK ?? 4;
    this.mode = fields.mode ?? "hybrid";
    this.filter = fields.filter;
  }

  override async _getRelevantDocuments(
    query: string,
    _runManager?: CallbackManagerForRetrieverRun,
  ): Promise<Document<SwitchyardDocumentMetadata>[]> {
    const passages = await this.service.search({
      tenant: this.tenant,
      collection: this.collection,
      query,
      topK: this.topK,
      mode: this.mode,
      ...(this.filter === undefined ? {} : { filter: this.filter }),
    });
    return passages.map(
      (p) =>
        new Document<SwitchyardDocumentMetadata>({
          pageContent: p.text,
          id: p.chunkId,
          metadata: {
            document_id: p.documentId,
            chunk_id: p.chunkId,
            title: p.title,
            source: p.source,
            score: p.score,
            index: p.index,
            metadata: p.metadata,
          },
        }),
    );
  }
}
