/**
 * OpenAI's Responses API: `POST /v1/responses` (streamed or not), and for
 * stored responses `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}` and
 * `GET /v1/responses/{id}/input_items`. A request becomes the equivalent chat
 * plan (`openai/plans.ts`) with the Responses renderer, so the one generation
 * pipeline runs it: cache, limits, telemetry, bots and the router apply as to
 * chat completions. Stored responses are per tenant; another tenant's id is a 404.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { invalidRequest, notFound } from "../../errors.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { reportIgnoredParams } from "../http/ignored-params.js";
import { chatPlan } from "../openai/plans.js";
import { requireRetrievalAccess, runGeneration } from "../generation/index.js";
import {
  createResponseSchema,
  MemoryResponseStore,
  newItemId,
  translateRequest,
  type ConversationItem,
  type ResponseObject,
  type ResponseStore,
  type StoredResponse,
} from "../responses/index.js";
import { responsesRenderer } from "../responses/renderer.js";
import { fileSearchRun } from "../responses/file-search.js";

const listQuery = z.looseObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
  after: z.string().optional(),
  before: z.string().optional(),
});

function responseNotFound(id: string): Error {
  return notFound(`Response with id '${id}' not found.`, { param: "response_id" });
}

/** OpenAI's cursor pagination over the stored input items. */
function pageOf(items: readonly ConversationItem[], q: z.infer<typeof listQuery>) {
  let list = q.order === "desc" ? [...items].reverse() : [...items];
  if (q.after !== undefined) list = list.slice(list.findIndex((i) => i.id === q.after) + 1);
  if (q.before !== undefined) {
    const at = list.findIndex((i) => i.id === q.before);
    if (at >= 0) list = list.slice(0, at);
  }
  const data = list.slice(0, q.limit);
  return { object: "list", data, first_id: data[0]?.id ?? "", last_id: data.at(-1)?.id ?? "", has_more: list.length > data.length };
}

/**
 * @example
 * ```ts
 * app.route("/", responsesRoutes(deps)); // deps.responses: a shared store, else one in memory
 * ```
 */
export function responsesRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const cfg = deps.config.responses;
  const store: ResponseStore =
    deps.responses ?? new MemoryResponseStore({ maxPerTenant: cfg.maxStoredPerTenant, maxBytesPerTenant: cfg.maxStoredBytesPerTenant, ttlMs: cfg.storeTtlMs });

  const stored = async (c: Context<AppEnv>, id: string): Promise<StoredResponse> => {
    const found = await store.get(c.get("principal").tenant, id);
    if (!found) throw responseNotFound(id);
    return found;
  };

  app.post("/v1/responses", async function createResponse(c) {
    const req = await parseBody(c, createResponseSchema);
    const tenant = c.get("principal").tenant;
    let history: ConversationItem[] = [];
    if (req.previous_response_id) {
      const previous = await store.get(tenant, req.previous_response_id);
      if (!previous) throw notFound(`Previous response with id '${req.previous_response_id}' not found.`, { param: "previous_response_id" });
      history = previous.conversation;
    }
    const { chat, input, ignored, logprobs, fileSearch, searchResults } = translateRequest(req, history);
    const plan = chatPlan(c, deps, chat);
    // The file_search tool grounds the answer in the tenant's vector stores (instead of a bot's collection).
    if (fileSearch) requireRetrievalAccess(c.get("principal").allowedModels, deps);
    const search = fileSearch && fileSearchRun(deps, tenant, fileSearch);
    reportIgnoredParams(c, deps.logger, ignored);
    const id = newItemId("resp");
    let saving: Promise<void> | undefined;
    const save = (response: ResponseObject) => {
      if (req.store === false) return;
      const record = { response, input, conversation: [...history, ...input, ...response.output] };
      saving = store.put(tenant, record).catch((err: unknown) => deps.logger.warn({ requestId: c.get("requestId"), err }, "could not store a response"));
    };
    const ctx = { id, createdAt: Math.floor(Date.now() / 1000), model: req.model, request: req, logprobs };
    const res = await runGeneration(c, deps, {
      ...plan,
      stream: req.stream === true,
      responseId: id,
      ...(search ? { grounding: search.grounding } : {}),
      renderer: ({ retrieval }) =>
        responsesRenderer(search && retrieval ? { ...ctx, fileSearch: { queries: [retrieval.query], results: search.results(retrieval.passages), includeResults: searchResults } } : ctx, save),
    });
    // A body names an id the client may use at once: store it first (a stream stores as it ends).
    if (saving) await saving;
    return res;
  });

  app.get("/v1/responses/:id", async function retrieveResponse(c) {
    return c.json((await stored(c, c.req.param("id"))).response);
  });

  app.delete("/v1/responses/:id", async function deleteResponse(c) {
    const id = c.req.param("id");
    if (!(await store.delete(c.get("principal").tenant, id))) throw responseNotFound(id);
    return c.json({ id, object: "response", deleted: true });
  });

  app.get("/v1/responses/:id/input_items", async function listInputItems(c) {
    const query = listQuery.safeParse(c.req.query());
    if (!query.success) {
      const issue = query.error.issues[0]!;
      throw invalidRequest(`Invalid query parameter '${issue.path.join(".")}': ${issue.message}`, { param: issue.path.join(".") });
    }
    return c.json(pageOf((await stored(c, c.req.param("id"))).input, query.data));
  });
  return app;
}
