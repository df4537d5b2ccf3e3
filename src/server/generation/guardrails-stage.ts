/**
 * The guardrails as a pipeline stage. Input is redacted before retrieval, the
 * cache and the pool see it; each generation's output is scanned *inside* the
 * cache (so the cache, like the logs, only ever holds stored forms), and the
 * caller's view is restored *outside* it (fresh answers and replays alike).
 */
import type { Context } from "hono";
import { GuardedGeneration, RestoredGeneration, redactGenerationInput, restoreResult, toGuardrailError, type PiiRedaction } from "../../guardrails/index.js";
import type { SwitchyardConfig } from "../../config/index.js";
import type { GenerationInput } from "../../types.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { hashApiKeys } from "../http/middleware/auth.js";
import type { GenerationPlan } from "./plan.js";
import type { Producer } from "./respond.js";
import { childController } from "../../util/link-abort.js";
import { clientSignal } from "../../util/node-bindings.js";

type KeyConfig = SwitchyardConfig["auth"]["keys"][number];

const keyConfigs = new WeakMap<SwitchyardConfig, Map<string, KeyConfig>>();

/** The configured key a request authenticated with (by its key id), if any. */
export function keyConfigOf(config: SwitchyardConfig, keyId: string): KeyConfig | undefined {
  let byId = keyConfigs.get(config);
  if (!byId) {
    const records = hashApiKeys(config.auth.keys);
    byId = new Map(records.map((r, i) => [r.keyId, config.auth.keys[i]!]));
    keyConfigs.set(config, byId);
  }
  return byId.get(keyId);
}

export interface GuardedRequest {
  /** The input with the caller's personal data replaced by placeholders. */
  input: GenerationInput;
  redaction: PiiRedaction;
}

/**
 * Redacts the plan's input under the request's policy (server, key, bot);
 * `undefined` when the policy is off. Throws the gateway's 400 (block mode) or 503
 * (detection failed: fail closed).
 *
 * A token-id completion prompt is read back as text through a shard and scanned
 * like a text prompt: unchanged, its ids pass as sent; redacted, the redacted
 * text goes on as the prompt (the shard tokenizes it again).
 */
export async function guardInput(c: Context<AppEnv>, deps: GatewayDeps, plan: GenerationPlan): Promise<GuardedRequest | undefined> {
  if (!deps.guardrails) return undefined;
  const key = keyConfigOf(deps.config, c.get("principal").keyId);
  const bot = plan.bot === undefined ? undefined : deps.registry.bot(plan.bot);
  const redaction = deps.guardrails.begin(key, bot);
  if (!redaction) return undefined;
  const input = plan.input;
  const text = input.kind === "completion" && input.tokens !== undefined ? await promptText(c, plan, input.tokens) : undefined;
  try {
    if (text === undefined) return { input: redactGenerationInput(redaction, input), redaction };
    const redacted = redaction.redactInput(text);
    return { input: redacted === text ? input : { kind: "completion", prompt: redacted }, redaction };
  } catch (err) {
    throw toGuardrailError(err);
  }
}

/** A token-id prompt's text, as a shard of the plan's model reads it (special tokens give none). */
async function promptText(c: Context<AppEnv>, plan: GenerationPlan, tokens: number[]): Promise<string> {
  using abort = clientSignal(c);
  return plan.model.pool.detokenize(tokens, abort.signal);
}

/** Scans a producer's output into stored form (goes inside the cache). A scan failure aborts the generation: 503. */
export function scannedProducer(redaction: PiiRedaction, produce: Producer): Producer {
  return async (onChunk, signal) => {
    const guarded = new GuardedGeneration(redaction);
    using inner = childController(signal);
    let failure: unknown;
    const result = await produce((chunk) => {
      if (failure !== undefined) return;
      let scanned;
      try {
        scanned = guarded.chunk(chunk);
      } catch (err) {
        failure = err;
        inner.abort(err);
        return;
      }
      onChunk(scanned);
    }, inner.signal).catch((err: unknown) => {
      throw failure === undefined ? err : toGuardrailError(failure);
    });
    if (failure !== undefined) throw toGuardrailError(failure);
    let done;
    try {
      done = guarded.finish(result);
    } catch (err) {
      throw toGuardrailError(err);
    }
    if (done.tail) onChunk(done.tail);
    return done.result;
  };
}

/** The caller's view of a producer's stored output (goes outside the cache). */
export function restoredProducer(redaction: PiiRedaction, produce: Producer): Producer {
  return async (onChunk, signal) => {
    const restored = new RestoredGeneration(redaction);
    return restoreResult(redaction, await produce((chunk) => onChunk(restored.chunk(chunk)), signal));
  };
}

/** Redacts retrieved passages for the prompt (see `ground`); a detection failure fails the request closed (503). */
export function retrievedRedactor(redaction: PiiRedaction): (text: string) => string {
  return (text) => {
    try {
      return redaction.redactRetrieved(text);
    } catch (err) {
      throw toGuardrailError(err);
    }
  };
}
