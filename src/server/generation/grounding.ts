/**
 * Grounds a chat in a collection: retrieve for the conversation, put numbered
 * sources in a delimited data section, and return the citations. With nothing
 * relevant, the answer is a fixed "I don't know" instead of an invention.
 */
import { invalidRequest } from "../../errors.js";
import { buildGroundedMessages, citationsFor, retrievalQuery, type RagService } from "../../rag/index.js";
import type { ChatMessage, Citation, RetrievedPassage } from "../../types.js";

export interface GroundingRequest {
  tenant: string;
  collection: string;
  topK: number;
  mode?: "vector" | "fulltext" | "hybrid";
  filter?: Record<string, string | number | boolean>;
  systemPrompt?: string;
  scoreFloor?: number;
}

export interface Grounded {
  messages: ChatMessage[];
  citations: Citation[];
  /** Collection version, part of the cache key. */
  version: number;
  /** True when nothing relevant was found: answer with the no-answer text. */
  empty: boolean;
}

/**
 * Retrieves and builds the grounded messages. `redact` (the PII guardrails'
 * {@link PiiRedaction.redactRetrieved}) runs over every passage's text, title
 * and source before they go into the prompt or the citations, so the shard,
 * the cache, logs and traces never see a document's personal data; the query
 * comes from `messages`, which the caller redacted already.
 */
export async function ground(rag: RagService, messages: ChatMessage[], req: GroundingRequest, redact?: (text: string) => string): Promise<Grounded> {
  const query = retrievalQuery(messages);
  if (!query) throw invalidRequest("Retrieval needs a user message to search for.", { param: "messages" });
  const [found, version] = await Promise.all([
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
  const passages = redact ? found.map((p) => redactPassage(p, redact)) : found;
  return {
    messages: buildGroundedMessages(messages, passages, req.systemPrompt ? { systemPrompt: req.systemPrompt } : {}),
    citations: citationsFor(passages),
    version,
    empty: passages.length === 0,
  };
}

function redactPassage(p: RetrievedPassage, redact: (text: string) => string): RetrievedPassage {
  return { ...p, text: redact(p.text), title: redact(p.title), source: redact(p.source) };
}
