/**
 * Retrieval endpoints: upsert/delete documents, search, list collections.
 * The tenant always comes from the caller's principal, never from the body.
 */
import { Hono } from "hono";
import { z } from "zod";
import { invalidRequest, notFound, unavailable, withParam } from "../../errors.js";
import { validateDocuments, type RagService } from "../../rag/index.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { bodyLimit } from "../http/middleware/body-limit.js";

const searchSchema = z.strictObject({
  query: z.string().min(1).max(8000),
  top_k: z.number().int().min(1).max(100).optional(),
  mode: z.enum(["vector", "fulltext", "hybrid"]).optional(),
  filter: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  fusion: z
    .strictObject({ method: z.enum(["rrf", "convex"]).optional(), vector_weight: z.number().min(0).max(1).optional(), rrf_k: z.number().positive().optional() })
    .optional(),
});

const upsertSchema = z.union([z.array(z.unknown()), z.strictObject({ documents: z.array(z.unknown()) })]);

function requireRag(deps: GatewayDeps): RagService {
  if (!deps.rag) throw unavailable("Retrieval is not enabled on this server.");
  return deps.rag;
}

export function collectionsRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("/v1/collections/:name/documents", bodyLimit({ maxBytes: deps.config.rag.maxUploadBytes }));

  app.get("/v1/collections", async (c) => {
    const rag = requireRag(deps);
    const names = await rag.listCollections(c.get("principal").tenant);
    const data = await Promise.all(
      names.map(async (name) => {
        const index = await rag.vectorIndexStatus(name);
        // Row counts are per table (all tenants of the name), so only the state is shown to a tenant.
        return { object: "collection", name, vector_index: { state: index.state, type: index.type } };
      }),
    );
    return c.json({ object: "list", data });
  });

  app.post("/v1/collections/:name/documents", async (c) => {
    const rag = requireRag(deps);
    const body = await parseBody(c, upsertSchema, { allowArray: true });
    const docs = Array.isArray(body) ? body : body.documents;
    if (docs.length === 0) throw invalidRequest("Send at least one document.", { param: "documents" });
    validateDocuments(docs);
    const tenant = c.get("principal").tenant;
    const name = c.req.param("name");
    const result = await rag.upsertDocuments(tenant, name, docs);
    return c.json({ object: "collection.upsert", collection: name, ...result, version: await rag.collectionVersion(tenant, name) });
  });

  app.delete("/v1/collections/:name/documents/:id{.+}", async (c) => {
    const rag = requireRag(deps);
    const name = c.req.param("name");
    const id = c.req.param("id");
    const deleted = await rag.deleteDocument(c.get("principal").tenant, name, id);
    if (!deleted) throw notFound(`No document '${id}' in collection '${name}'.`, { param: "id", code: "document_not_found" });
    return c.json({ object: "collection.document.deleted", id, deleted: true });
  });

  app.post("/v1/collections/:name/search", async (c) => {
    const rag = requireRag(deps);
    const req = await parseBody(c, searchSchema);
    const started = performance.now();
    const { passages, fusion: used } = await rag
      .searchWithFusion({
        tenant: c.get("principal").tenant,
        collection: c.req.param("name"),
        query: req.query,
        ...(req.top_k ? { topK: req.top_k } : {}),
        ...(req.mode ? { mode: req.mode } : {}),
        ...(req.filter ? { filter: req.filter } : {}),
        ...(req.fusion
          ? {
              fusion: {
                ...(req.fusion.method === undefined ? {} : { method: req.fusion.method }),
                ...(req.fusion.vector_weight === undefined ? {} : { vectorWeight: req.fusion.vector_weight }),
                ...(req.fusion.rrf_k === undefined ? {} : { rrfK: req.fusion.rrf_k }),
              },
            }
          : {}),
      })
      // The embedding model reads the query: its context-length error names `query`, not `input`.
      .catch((err: unknown) => {
        throw withParam(err, "context_length_exceeded", "query");
      });
    return c.json({
      object: "list",
      data: passages.map((p) => ({
        index: p.index,
        document_id: p.documentId,
        chunk_id: p.chunkId,
        title: p.title,
        source: p.source,
        text: p.text,
        score: p.score,
        metadata: p.metadata,
      })),
      search_ms: Math.round((performance.now() - started) * 100) / 100,
      // Hybrid: the fusion it used, so a caller sees why (e.g. a vector weight of 0 where the collection's vectors rank poorly).
      ...(used === undefined
        ? {}
        : { fusion: { method: used.method, vector_weight: used.vectorWeight, ...(used.method === "rrf" ? { rrf_k: used.rrfK } : {}), calibrated: used.calibrated } }),
    });
  });
  return app;
}
