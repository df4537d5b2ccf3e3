/**
 * Body parsing and validation: malformed JSON, invalid UTF-8, nesting deeper
 * than `maxJsonDepth` and schema violations become 400 errors whose `param`
 * names the offending field (`messages[0].role`).
 */
import type { Context } from "hono";
import type { z } from "zod";
import { invalidRequest } from "../../errors.js";
import { readBodyText, tooDeep } from "./body.js";
import type { AppEnv } from "./env.js";

/** Config `server.maxJsonDepth`'s default, for bodies read where no middleware set it. */
export const DEFAULT_MAX_JSON_DEPTH = 128;

function paramOf(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

/**
 * @example
 * ```ts
 * const body = await parseBody(c, chatRequestSchema);
 * ```
 */
export async function parseBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S, { allowArray = false }: { allowArray?: boolean } = {}): Promise<z.infer<S>> {
  const type = c.req.header("content-type") ?? "";
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw invalidRequest(`Unsupported content-type '${type.split(";")[0]}'; send application/json.`);
  }
  const text = await readBodyText(c);
  const maxDepth = c.get("maxJsonDepth") ?? DEFAULT_MAX_JSON_DEPTH;
  // Before JSON.parse: the value is walked recursively later (validation, canonical hashing), so a
  // 5,000-deep body would overflow the stack there.
  const deep = tooDeep(text, maxDepth);
  if (deep) {
    throw invalidRequest(`The JSON body is nested deeper than ${maxDepth} levels${deep.param ? ` under '${deep.param}'` : ""}.`, { param: deep.param, code: "json_too_deep" });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalidRequest("We could not parse the JSON body of your request. The body must be valid JSON.", { code: "invalid_json" });
  }
  if (typeof raw !== "object" || raw === null || (Array.isArray(raw) && !allowArray)) {
    throw invalidRequest("The request body must be a JSON object.", { code: "invalid_json" });
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const param = paramOf([...issue.path, key]);
    throw invalidRequest(`Unrecognized request argument supplied: ${param}`, { param, code: "unknown_parameter" });
  }
  const param = paramOf(issue.path);
  throw invalidRequest(`Invalid value for '${param ?? "body"}': ${issue.message}`, { param, code: "invalid_value" });
}
