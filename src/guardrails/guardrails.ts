/**
 * The gateway's guardrails runtime: resolves the PII policy of a request
 * (server, key and bot; the strictest wins) and hands out per-request
 * redactions. One {@link PiiGuard} per distinct policy is kept.
 */
import { effectivePiiPolicy, type BotConfig, type SwitchyardConfig } from "../config/index.js";
import { PiiGuard, type PiiRedaction } from "./pii-guard.js";
import type { PiiObserver } from "./types.js";

type KeyConfig = SwitchyardConfig["auth"]["keys"][number];

export interface GuardrailsOptions {
  config: SwitchyardConfig;
  /** Counts of redactions, blocks and failures (metrics); never values. */
  observer?: PiiObserver;
}

/**
 * @example
 * ```ts
 * const guardrails = new Guardrails({ config, observer: piiObserver({ metrics }) });
 * const redaction = guardrails.begin(keyConfig, botConfig); // undefined when PII handling is off
 * ```
 */
export class Guardrails {
  private readonly config: SwitchyardConfig;
  private readonly observer: PiiObserver | undefined;
  private readonly guards = new Map<string, PiiGuard>();

  constructor(options: GuardrailsOptions) {
    this.config = options.config;
    this.observer = options.observer;
  }

  /** A redaction for one request, or `undefined` when its policy is off. */
  begin(key: KeyConfig | undefined, bot: BotConfig | undefined): PiiRedaction | undefined {
    const policy = effectivePiiPolicy(this.config, key, bot);
    if (policy.mode === "off" || policy.entities.length === 0) return undefined;
    const id = JSON.stringify(policy);
    let guard = this.guards.get(id);
    if (!guard) {
      const { defaultRegion, timeoutMs } = this.config.guardrails.pii;
      guard = new PiiGuard({ policy, defaultRegion, timeoutMs, ...(this.observer ? { observer: this.observer } : {}) });
      this.guards.set(id, guard);
    }
    return guard.begin();
  }
}
