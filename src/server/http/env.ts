/** Hono environment of the gateway app: per-request variables set by middleware. */
import type { Principal } from "../../types.js";

export interface AppVariables {
  requestId: string;
  principal: Principal;
  /** Milliseconds spent inside the model (queue excluded), for the overhead header. */
  modelMs: number;
}

export interface AppEnv {
  Variables: AppVariables;
}
