/**
 * Prometheus counters for the PII guardrails: redactions by entity type and
 * direction, blocked requests by type, detection failures by reason. Counts
 * only — never a value.
 */
import { Counter, type Registry } from "prom-client";
import type { PiiObserver } from "../guardrails/index.js";

/**
 * @example
 * ```ts
 * const guardrails = new Guardrails({ config, observer: piiObserver(metrics.registry) });
 * ```
 */
export function piiObserver(registry: Registry): PiiObserver {
  const redactions = new Counter({
    name: "switchyard_pii_redactions_total",
    help: "Personal-data values replaced by placeholders, by entity type and direction (input: the caller's; output: the model's; retrieved: passages put into the prompt).",
    labelNames: ["type", "direction"],
    registers: [registry],
  });
  const blocked = new Counter({
    name: "switchyard_pii_blocked_total",
    help: "Requests refused in block mode, by entity type found.",
    labelNames: ["type"],
    registers: [registry],
  });
  const failures = new Counter({
    name: "switchyard_pii_detection_failures_total",
    help: "Detections that failed (error or time budget); each failed its request closed.",
    labelNames: ["reason"],
    registers: [registry],
  });
  return {
    redacted: (type, direction, count) => redactions.inc({ type, direction }, count),
    blocked: (types) => {
      for (const type of types) blocked.inc({ type });
    },
    failed: (reason) => failures.inc({ reason }),
  };
}
