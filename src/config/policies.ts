/**
 * Per-request policies resolved from the server-wide config, the caller's API
 * key and the bot (model) it addresses.
 */
import type { PiiEntityType, PiiMode } from "../guardrails/types.js";
import type { BotConfig, SwitchyardConfig } from "./schema.js";

type KeyConfig = SwitchyardConfig["auth"]["keys"][number];

export interface ResolvedPiiPolicy {
  mode: PiiMode;
  entities: PiiEntityType[];
  restore: boolean;
}

const STRICTNESS: Record<PiiMode, number> = { off: 0, redact: 1, block: 2 };

/**
 * The strictest of the server's, the key's and the bot's PII settings: the
 * strictest mode (`block` > `redact` > `off`), the union of the entity lists
 * of the levels that are on, and `restore` only if no level forbids it. A key
 * cannot loosen what the operator or a bot requires.
 *
 * @example
 * ```ts
 * // server off, key redact [email], bot redact [phone] restore:false
 * effectivePiiPolicy(config, key, bot); // { mode: "redact", entities: ["email", "phone"], restore: false }
 * ```
 */
export function effectivePiiPolicy(config: SwitchyardConfig, key?: KeyConfig, bot?: BotConfig): ResolvedPiiPolicy {
  const base = config.guardrails.pii;
  const levels = [
    { mode: base.mode, entities: base.entities, restore: base.restore },
    key?.guardrails?.pii,
    bot?.guardrails?.pii,
  ];
  let mode: PiiMode = "off";
  const entities = new Set<PiiEntityType>();
  let restore = true;
  for (const level of levels) {
    if (!level) continue;
    if (level.restore === false) restore = false;
    const levelMode = level.mode ?? (level.entities ? "redact" : undefined);
    if (!levelMode || levelMode === "off") continue;
    if (STRICTNESS[levelMode] > STRICTNESS[mode]) mode = levelMode;
    for (const e of level.entities ?? base.entities) entities.add(e);
  }
  return { mode, entities: mode === "off" ? [] : [...entities], restore };
}

export interface ResolvedSemanticPolicy {
  enabled: boolean;
  threshold: number;
  ttlMs: number;
  allowSampled: boolean;
}

/**
 * Semantic-cache settings: each field from the bot if it sets it, else the
 * key, else the server (`cache.semantic`). Never on when the exact cache is
 * disabled.
 */
export function effectiveSemanticPolicy(config: SwitchyardConfig, key?: KeyConfig, bot?: BotConfig): ResolvedSemanticPolicy {
  const base = config.cache.semantic;
  const k = key?.cache?.semantic;
  const b = bot?.cache?.semantic;
  return {
    enabled: config.cache.enabled && (b?.enabled ?? k?.enabled ?? base.enabled),
    threshold: b?.threshold ?? k?.threshold ?? base.threshold,
    ttlMs: b?.ttlMs ?? k?.ttlMs ?? base.ttlMs,
    allowSampled: b?.allowSampled ?? k?.allowSampled ?? base.allowSampled,
  };
}
