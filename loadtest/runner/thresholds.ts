/**
 * k6 threshold expressions (`p(95)<500`, `rate<0.01`, `count==0`, `avg<=200`)
 * evaluated on the Node runner's metrics.
 */
import type { Metric } from "./metrics.js";
import { percentile } from "./stats.js";
import type { ThresholdResult } from "./types.js";

const EXPR = /^\s*(avg|min|max|med|count|rate|value|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

function aggregate(metric: Metric, agg: string, p: number | undefined, durationS: number): number | undefined {
  if (metric.type === "counter") {
    if (agg === "count") return metric.value;
    if (agg === "rate") return durationS > 0 ? metric.value / durationS : undefined;
    return undefined;
  }
  if (metric.type === "rate") {
    if (agg !== "rate" || metric.values.length === 0) return undefined;
    return metric.values.filter(Boolean).length / metric.values.length;
  }
  const sorted = [...metric.values].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  switch (agg) {
    case "avg":
      return sorted.reduce((s, v) => s + v, 0) / sorted.length;
    case "min":
      return sorted[0];
    case "max":
      return sorted[sorted.length - 1];
    case "med":
      return percentile(sorted, 50);
    case "count":
      return sorted.length;
    default:
      return p === undefined ? undefined : percentile(sorted, p);
  }
}

function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "!=":
      return a !== b;
    default:
      return a === b;
  }
}

/**
 * @example evaluateThresholds({ http_req_failed: ["rate<0.01"] }, metrics, 120)
 */
export function evaluateThresholds(thresholds: Record<string, string[]>, metrics: Map<string, Metric>, durationS: number): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [name, exprs] of Object.entries(thresholds)) {
    for (const expression of exprs) {
      const metric = metrics.get(name);
      if (!metric) {
        out.push({ metric: name, expression, note: "not recorded by the Node runner" });
        continue;
      }
      const m = EXPR.exec(expression);
      if (!m) {
        out.push({ metric: name, expression, note: "expression not understood" });
        continue;
      }
      const [, aggText = "", pText, op = "==", limit = "0"] = m;
      const agg = aggText.startsWith("p(") ? "p" : aggText;
      const value = aggregate(metric, agg, pText === undefined ? undefined : Number(pText), durationS);
      if (value === undefined) {
        out.push({ metric: name, expression, note: "no samples" });
        continue;
      }
      out.push({ metric: name, expression, value: Math.round(value * 10_000) / 10_000, passed: compare(value, op, Number(limit)) });
    }
  }
  return out;
}
