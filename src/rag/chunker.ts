/**
 * Cuts documents into chunks with LangChain's splitters: the markdown-aware
 * recursive splitter for markdown (headings, code fences and list items are
 * preferred cut points), the plain recursive splitter (paragraph → line →
 * sentence-ish → word) otherwise. Near-duplicate chunks within a document are
 * dropped before positions are assigned, so chunk ids stay dense.
 */
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import type { Chunk, RagDocument } from "./document.js";
import { NearDuplicateFilter } from "./dedupe.js";

export interface ChunkerOptions {
  /** Characters per chunk (config `rag.chunkSize`). */
  chunkSize: number;
  /** Characters shared by neighbouring chunks (config `rag.chunkOverlap`). */
  chunkOverlap: number;
  /** Jaccard threshold for near-duplicate chunks. Default 0.9. */
  dedupeThreshold?: number;
}

/**
 * Whether a document is split as markdown: its `format`, else a `.md` /
 * `.markdown` source or id.
 *
 * @example
 * ```ts
 * isMarkdown({ id: "guide.md", text: "" }); // true
 * ```
 */
export function isMarkdown(doc: RagDocument): boolean {
  if (doc.format !== undefined) return doc.format === "markdown";
  return /\.(md|markdown|mdx)$/i.test(doc.source ?? doc.id);
}

/**
 * Splits documents with fixed size/overlap settings.
 *
 * @example
 * ```ts
 * const chunker = new Chunker({ chunkSize: 800, chunkOverlap: 100 });
 * const chunks = await chunker.chunk({ id: "a.md", text: "# Title\n\nBody" });
 * chunks[0]?.chunkId; // "a.md#0"
 * ```
 */
export class Chunker {
  private readonly markdown: RecursiveCharacterTextSplitter;
  private readonly plain: RecursiveCharacterTextSplitter;
  private readonly dedupeThreshold: number;

  constructor(options: ChunkerOptions) {
    const { chunkSize, chunkOverlap } = options;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
    if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
      throw new RangeError(`chunkOverlap must be an integer in [0, chunkSize), got ${chunkOverlap}`);
    }
    this.markdown = RecursiveCharacterTextSplitter.fromLanguage("markdown", { chunkSize, chunkOverlap });
    this.plain = new RecursiveCharacterTextSplitter({ chunkSize, chunkOverlap });
    this.dedupeThreshold = options.dedupeThreshold ?? 0.9;
  }

  /**
   * The document's chunks, in order, near-duplicates removed, empty pieces
   * dropped; then one chunk per known question (`questions`), with negative
   * positions (−1, −2, …) and ids `${id}#q${i}`.
   */
  async chunk(doc: RagDocument): Promise<Chunk[]> {
    const splitter = isMarkdown(doc) ? this.markdown : this.plain;
    const pieces = await splitter.splitText(doc.text);
    const seen = new NearDuplicateFilter({ threshold: this.dedupeThreshold });
    const chunks: Chunk[] = [];
    for (const piece of pieces) {
      const text = piece.trim();
      if (text.length === 0 || !seen.keep(text)) continue;
      const position = chunks.length;
      chunks.push({
        chunkId: `${doc.id}#${position}`,
        documentId: doc.id,
        position,
        text,
        title: doc.title ?? "",
        source: doc.source ?? "",
        metadata: doc.metadata ?? {},
      });
    }
    // Known questions: one row each, found by search and answered by the document (see search.ts).
    (doc.questions ?? []).forEach((question, i) => {
      const text = question.trim();
      if (text.length === 0) return;
      chunks.push({
        chunkId: `${doc.id}#q${i}`,
        documentId: doc.id,
        position: -(i + 1),
        text,
        title: doc.title ?? "",
        source: doc.source ?? "",
        metadata: doc.metadata ?? {},
      });
    });
    return chunks;
  }
}
