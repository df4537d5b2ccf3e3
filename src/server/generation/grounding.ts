/**
 * Grounds a chat in a collection (or in a caller-supplied search, e.g. the
 * Responses API's `file_search` over vector stores): retrieve for the
 * conversation, put numbered sources in a delimited data section, and return
 * the citations. With nothing relevant, the answer is a fixed "I don't know"
 * instead of an invention.
 */
import { invalidRequest } from "../../errors.js";
import { buildGroundedMessages, citationsFor, retrievalQuery, type RagService } from "../../rag/index.js";
import type { ChatMessage, Citation, RetrievedPassage } from "../../types.js";

/** What a custom search found: passages numbered from 1, and a version of what was searched (it joins the cache key). */
export interface GroundingSearchResult {
  passages: RetrievedPassage[];
  version: string;
}

export interface GroundingRequest {
  tenant: string;
  /** The collection searched; with `search`, only a label of what it searches (for the cache key). */
  collection: string;
  topK: number;
  mode?: "vector" | "fulltext" | "hybrid";
  filter?: Record<string, string | number | boolean>;
  systemPrompt?: string;
  scoreFloor?: number;
  /**
   * Searches instead of the collection (the Responses API's `file_search` over
   * several vector stores). It runs where retrieval runs: after input
   * redaction, and its passages are redacted like a collection's.
   */
  search?: (query: string) => Promise<GroundingSearchResult>;
}

export interface Grounded {
  messages: ChatMessage[];
  citations: Citation[];
  /** The passages the answer is grounded in, as the prompt holds them (redacted when the guardrails are on). */
  passages: RetrievedPassage[];
  /** The query searched for. */
  query: string;
  /** What was searched at which version (`collection@version`): part of the cache key. */
  version: string;
  /** True when nothing relevant was found: answer with the no-answer text. */
  empty: boolean;
}

async function retrieve(rag: RagService | undefined, query: string, req: GroundingRequest): Promise<GroundingSearchResult> {
  if (req.search) return req.search(query);
  if (!rag) throw invalidRequest("Retrieval is not enabled on this server.", { param: "rag" });
  const [passages, version] = await Promise.all([
    rag.search({
      tenant: req.tenant,
      collection: req.collection,
      query,
      topK: req.topK,
      ...(req.mode ? { mode: req.mode } : {}),
      ...(req.filter ? { filter: req.filter } : {}),
      ...(req.scoreFloor === undefined ? {} : { scoreFloor: req.scoreFloor }),
    }),
    rag.collectionVersion(req.tenant, req.collection),
  ]);
  return { passages, version: String(version) };
}

/**
 * Retrieves and builds the grounded messages. `redact` (the PII guardrails'
 * {@link PiiRedaction.redactRetrieved}) runs over every passage's text, title
 * and source before they go into the prompt or the citations, so the shard,
 * the cache, logs and traces never see a document's personal data; the query
 * comes from `messages`, which the caller redacted already.
 */
export async function ground(rag: RagService | undefined, messages: ChatMessage[], req: GroundingRequest, redact?: (text: string) => string): Promise<Grounded> {
  const query = retrievalQuery(messages);
  if (!query) throw invalidRequest("Retrieval needs a user message to search for.", { param: "messages" });
  const { passages: found, version } = await retrieve(rag, query, req);
  const passages = redact ? found.map((p) => redactPassage(p, redact)) : found;
  return {
    messages: buildGroundedMessages(messages, passages, req.systemPrompt ? { systemPrompt: req.systemPrompt } : {}),
    citations: citationsFor(passages),
    passages,
    query,
    version: `${req.collection}@${version}`,
    empty: passages.length === 0,
  };
}

function redactPassage(p: RetrievedPassage, redact: (text: string) => string): RetrievedPassage {
  return { ...p, text: redact(p.text), title: redact(p.title), source: redact(p.source) };
}
