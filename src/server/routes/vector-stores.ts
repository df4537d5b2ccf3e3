/**
 * OpenAI's files and vector-store endpoints (`/v1/files`, `/v1/vector_stores/...`)
 * over collections; the logic is src/rag/vector-stores. The tenant always
 * comes from the caller's principal.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { invalidRequest, unavailable, withParam } from "../../errors.js";
import { type ListOptions, type VectorStoreService } from "../../rag/vector-stores/index.js";
import type { AppEnv } from "../http/env.js";
import { bodyLimit } from "../http/middleware/body-limit.js";
import { parseBody } from "../http/validate.js";

/** Paths whose bodies the uploads limit governs instead of the API body limit. */
export const FILE_UPLOAD_PATH = /^\/v1\/files$/;

const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable().optional();
const expiresAfter = z.strictObject({ anchor: z.literal("last_active_at"), days: z.number().int().min(1).max(365) });
const metadata = z.record(z.string().max(64), z.string().max(512)).nullable().optional();
const chunkingStrategy = z.unknown().optional();

const createStoreSchema = z.strictObject({
  name: z.string().max(256).optional(),
  file_ids: z.array(z.string()).max(500).optional(),
  metadata,
  expires_after: expiresAfter.optional(),
  chunking_strategy: chunkingStrategy,
  description: z.string().optional(),
});
const updateStoreSchema = z.strictObject({ name: z.string().max(256).nullable().optional(), metadata, expires_after: expiresAfter.nullable().optional() });
const attachSchema = z.strictObject({ file_id: z.string().min(1), attributes, chunking_strategy: chunkingStrategy });
const batchSchema = z
  .strictObject({
    file_ids: z.array(z.string().min(1)).min(1).max(500).optional(),
    files: z.array(z.strictObject({ file_id: z.string().min(1), attributes, chunking_strategy: chunkingStrategy })).min(1).max(500).optional(),
    attributes,
    chunking_strategy: chunkingStrategy,
  })
  .refine((b) => (b.file_ids === undefined) !== (b.files === undefined), { message: "give exactly one of file_ids and files", path: ["file_ids"] });

type Filter = { type: "eq" | "ne" | "gt" | "gte" | "lt" | "lte"; key: string; value: unknown } | { type: "and" | "or"; filters: Filter[] };
const filterSchema: z.ZodType<Filter> = z.lazy(() =>
  z.union([
    z.strictObject({ type: z.enum(["eq", "ne", "gt", "gte", "lt", "lte"]), key: z.string().min(1), value: z.unknown() }),
    z.strictObject({ type: z.enum(["and", "or"]), filters: z.array(filterSchema).min(1) }),
  ]),
);
const searchSchema = z.strictObject({
  query: z.union([z.string().min(1).max(8000), z.array(z.string().min(1).max(8000)).min(1).max(10)]),
  max_num_results: z.number().int().min(1).max(50).optional(),
  filters: filterSchema.optional(),
  ranking_options: z.strictObject({ ranker: z.enum(["none", "auto", "default-2024-11-15"]).optional(), score_threshold: z.number().min(0).max(1).optional() }).optional(),
  rewrite_query: z.boolean().optional(),
});

function listOptions(c: Context<AppEnv>): ListOptions {
  const q = c.req.query();
  const limit = q.limit === undefined ? undefined : Number(q.limit);
  if (limit !== undefined && !Number.isInteger(limit)) throw invalidRequest("limit must be an integer from 1 to 100.", { param: "limit" });
  if (q.order !== undefined && q.order !== "asc" && q.order !== "desc") throw invalidRequest("order must be 'asc' or 'desc'.", { param: "order" });
  return {
    ...(limit === undefined ? {} : { limit }),
    ...(q.order === undefined ? {} : { order: q.order }),
    ...(q.after === undefined ? {} : { after: q.after }),
    ...(q.before === undefined ? {} : { before: q.before }),
  };
}

function dropNulls<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]: Exclude<T[K], null> };
}

/**
 * @example
 * ```ts
 * app.route("/", vectorStoreRoutes({ vectorStores, maxUploadBytes: config.rag.maxUploadBytes }));
 * ```
 */
export function vectorStoreRoutes(deps: { vectorStores?: VectorStoreService; maxUploadBytes: number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const service = (): VectorStoreService => {
    if (!deps.vectorStores) throw unavailable("Retrieval is not enabled on this server.");
    return deps.vectorStores;
  };
  const tenant = (c: Context<AppEnv>): string => c.get("principal").tenant;

  app.use("/v1/files", bodyLimit({ maxBytes: deps.maxUploadBytes, chunked: "stream" }));

  // ---------------------------------------------------------- files
  app.post("/v1/files", async (c) => {
    const type = c.req.header("content-type") ?? "";
    if (!/^multipart\/form-data/i.test(type)) throw invalidRequest("Upload files as multipart/form-data with fields 'file' and 'purpose'.", { param: "file" });
    let form: Record<string, string | File | (string | File)[]>;
    try {
      form = await c.req.parseBody();
    } catch {
      throw invalidRequest("The multipart body could not be parsed.", { param: "file" });
    }
    const file = form.file;
    const purpose = form.purpose;
    if (!(file instanceof File)) throw invalidRequest("Missing 'file' (a file part).", { param: "file" });
    if (typeof purpose !== "string") throw invalidRequest("Missing 'purpose'.", { param: "purpose" });
    const bytes = new Uint8Array(await file.arrayBuffer());
    return c.json(await service().uploadFile(tenant(c), { filename: file.name || "upload", purpose, bytes }));
  });
  app.get("/v1/files", async (c) => {
    const purpose = c.req.query("purpose");
    return c.json(await service().listFiles(tenant(c), { ...listOptions(c), ...(purpose === undefined ? {} : { purpose }) }));
  });
  app.get("/v1/files/:id", async (c) => c.json(await service().getFile(tenant(c), c.req.param("id"))));
  app.get("/v1/files/:id/content", async (c) => {
    const { bytes } = await service().fileContent(tenant(c), c.req.param("id"));
    return c.body(new Uint8Array(bytes), 200, { "content-type": "application/octet-stream" });
  });
  app.delete("/v1/files/:id", async (c) => c.json(await service().deleteFile(tenant(c), c.req.param("id"))));

  // ---------------------------------------------------------- vector stores
  app.post("/v1/vector_stores", async (c) => {
    const body = await parseBody(c, createStoreSchema);
    const { name, file_ids, metadata: meta, expires_after } = body;
    return c.json(
      await service().createStore(tenant(c), dropNulls({ name, file_ids, metadata: meta, expires_after })),
    );
  });
  app.get("/v1/vector_stores", async (c) => c.json(await service().listStores(tenant(c), listOptions(c))));
  app.get("/v1/vector_stores/:vs", async (c) => c.json(await service().getStore(tenant(c), c.req.param("vs"))));
  app.post("/v1/vector_stores/:vs", async (c) => {
    const body = await parseBody(c, updateStoreSchema);
    return c.json(await service().updateStore(tenant(c), c.req.param("vs"), body));
  });
  app.delete("/v1/vector_stores/:vs", async (c) => c.json(await service().deleteStore(tenant(c), c.req.param("vs"))));

  app.post("/v1/vector_stores/:vs/search", async (c) => {
    const body = await parseBody(c, searchSchema);
    const results = await service()
      .search(tenant(c), c.req.param("vs"), dropNulls(body))
      .catch((err: unknown) => {
        throw withParam(err, "context_length_exceeded", "query");
      });
    return c.json(results);
  });

  // ---------------------------------------------------------- store files
  app.post("/v1/vector_stores/:vs/files", async (c) => {
    const body = await parseBody(c, attachSchema);
    return c.json(await service().attachFile(tenant(c), c.req.param("vs"), body.file_id, body.attributes ?? {}));
  });
  app.get("/v1/vector_stores/:vs/files", async (c) => {
    const filter = c.req.query("filter");
    if (filter !== undefined && !["in_progress", "completed", "failed", "cancelled"].includes(filter)) {
      throw invalidRequest("filter must be in_progress, completed, failed or cancelled.", { param: "filter" });
    }
    return c.json(
      await service().listStoreFiles(tenant(c), c.req.param("vs"), {
        ...listOptions(c),
        ...(filter === undefined ? {} : { filter: filter as "in_progress" | "completed" | "failed" | "cancelled" }),
      }),
    );
  });
  app.get("/v1/vector_stores/:vs/files/:file", async (c) => c.json(await service().getStoreFile(tenant(c), c.req.param("vs"), c.req.param("file"))));
  app.delete("/v1/vector_stores/:vs/files/:file", async (c) => c.json(await service().detachFile(tenant(c), c.req.param("vs"), c.req.param("file"))));

  // ---------------------------------------------------------- batches
  app.post("/v1/vector_stores/:vs/file_batches", async (c) => {
    const body = await parseBody(c, batchSchema);
    return c.json(
      await service().createBatch(tenant(c), c.req.param("vs"), {
        ...(body.file_ids === undefined ? {} : { file_ids: body.file_ids }),
        ...(body.files === undefined ? {} : { files: body.files.map((f) => ({ file_id: f.file_id, attributes: f.attributes ?? body.attributes ?? {} })) }),
        attributes: body.attributes ?? {},
      }),
    );
  });
  app.get("/v1/vector_stores/:vs/file_batches/:batch", async (c) => c.json(await service().getBatch(tenant(c), c.req.param("vs"), c.req.param("batch"))));
  app.post("/v1/vector_stores/:vs/file_batches/:batch/cancel", async (c) =>
    c.json(await service().cancelBatch(tenant(c), c.req.param("vs"), c.req.param("batch"))),
  );
  app.get("/v1/vector_stores/:vs/file_batches/:batch/files", async (c) => {
    const vs = c.req.param("vs");
    const batch = c.req.param("batch");
    await service().getBatch(tenant(c), vs, batch); // 404 for an unknown batch
    return c.json(await service().listStoreFiles(tenant(c), vs, { ...listOptions(c), batchId: batch }));
  });
  return app;
}
