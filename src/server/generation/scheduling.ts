/**
 * How the pool schedules a request: priority, deadline and session affinity,
 * from Switchyard's extension fields (`priority`, `timeout`, `user`) and
 * headers (`x-switchyard-priority`, `x-session-id`). The same for every wire API.
 */
import type { Context } from "hono";
import type { SwitchyardConfig } from "../../config/index.js";
import { invalidRequest } from "../../errors.js";
import type { AppEnv } from "../http/env.js";

type Limits = SwitchyardConfig["limits"];

/** The request fields scheduling reads (any wire API may carry them). */
export interface SchedulingFields {
  priority?: number | "interactive" | "batch" | undefined;
  timeout?: number | undefined;
  user?: string | undefined;
}

export interface Scheduling {
  /** Higher runs first; FIFO within a priority. */
  priority: number;
  /** Deadline of the whole request (queue + generation). */
  timeoutMs: number;
  /** `tenant:session`: keeps a conversation on the slot holding its prefix. */
  sessionKey: string | undefined;
}

/** `priority` extension field or `x-switchyard-priority` header → number (higher first). */
export function priorityOf(value: SchedulingFields["priority"], header: string | undefined): number {
  const v = value ?? header;
  if (v === undefined) return 0;
  if (v === "interactive") return 1;
  if (v === "batch") return -1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < -10 || n > 10) throw invalidRequest("priority must be an integer from -10 to 10, 'interactive' or 'batch'.", { param: "priority" });
  return n;
}

/** Per-request deadline: the `timeout` extension within the configured cap. */
export function timeoutOf(value: number | undefined, limits: Limits): number {
  if (value === undefined) return limits.requestTimeoutMs;
  if (value > limits.maxRequestTimeoutMs) {
    throw invalidRequest(`timeout may be at most ${limits.maxRequestTimeoutMs} ms.`, { param: "timeout" });
  }
  return value;
}

/** `x-session-id`, else the `user` field, scoped to the tenant. */
export function sessionKeyOf(c: Context<AppEnv>, user: string | undefined): string | undefined {
  const key = c.req.header("x-session-id") ?? user;
  return key ? `${c.get("principal").tenant}:${key}` : undefined;
}

/**
 * @example
 * ```ts
 * const scheduling = schedulingOf(c, req, deps.config.limits);
 * ```
 */
export function schedulingOf(c: Context<AppEnv>, req: SchedulingFields, limits: Limits): Scheduling {
  return {
    priority: priorityOf(req.priority, c.req.header("x-switchyard-priority")),
    timeoutMs: timeoutOf(req.timeout, limits),
    sessionKey: sessionKeyOf(c, req.user),
  };
}
