// @ts-check
/**
 * Renders one `GET /v1/status` body: the overview numbers and a table of
 * shards per model. Pure functions of the status (and the previous one, for rates).
 */
import { formatBytes, h } from "./dom.js";

/**
 * @typedef {{ id: string, kind: string, state: string, breaker: string, slotsBusy: number, slotsTotal: number, restarts: number, lastError?: string }} ShardStatus
 * @typedef {{ model: string, waiting: number, running: number, shards: ShardStatus[] }} ModelStatus
 * @typedef {{ hit: number, miss: number, bypass: number, coalesced: number, stored: number, errors: number }} CacheCounters
 * @typedef {{ entries: number, bytes: number, maxBytes: number, evictions: number }} CacheStats
 * @typedef {{ models: ModelStatus[], cache: { counters: CacheCounters, stats: CacheStats } | null, uptimeSeconds: number, completionTokens?: number | null, config?: { version: number, hash: string, appliedAt: string } | null }} Status
 * @typedef {{ status: Status, at: number }} Sample a status and when (page clock, ms) it arrived
 */

/** @param {number} seconds */
export function formatUptime(seconds) {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const hrs = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${hrs}h`;
  if (hrs > 0) return `${hrs}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/**
 * Completion tokens per second between two samples, or null when the gateway
 * reports no token counter (or there is no earlier sample yet).
 * @param {Sample} current
 * @param {Sample | undefined} previous
 * @returns {number | null}
 */
export function tokenRate(current, previous) {
  const now = current.status.completionTokens;
  const before = previous?.status.completionTokens;
  if (typeof now !== "number" || typeof before !== "number" || !previous) return null;
  const seconds = (current.at - previous.at) / 1000;
  return seconds > 0 ? Math.max(0, now - before) / seconds : null;
}

/**
 * @param {string} label
 * @param {string} value
 * @param {string} [detail]
 */
function stat(label, value, detail) {
  return h(
    "div",
    { class: "stat card" },
    h("dt", {}, label),
    h("dd", {}, h("span", { class: "stat-value" }, value), detail ? h("span", { class: "stat-detail" }, detail) : null),
  );
}

/**
 * The overview cards.
 * @param {Sample} current
 * @param {Sample | undefined} previous
 * @returns {HTMLElement[]}
 */
export function renderStats(current, previous) {
  const { status } = current;
  const waiting = status.models.reduce((n, m) => n + m.waiting, 0);
  const running = status.models.reduce((n, m) => n + m.running, 0);
  const busy = status.models.flatMap((m) => m.shards).reduce((n, s) => n + s.slotsBusy, 0);
  const total = status.models.flatMap((m) => m.shards).reduce((n, s) => n + s.slotsTotal, 0);
  const cards = [
    stat("Uptime", formatUptime(status.uptimeSeconds)),
    stat("Queue", String(waiting), "waiting"),
    stat("Running", String(running), `${busy} of ${total} slots busy`),
  ];
  if (status.config) cards.push(stat("Config", `v${status.config.version}`, `${status.config.hash} · applied ${status.config.appliedAt}`));
  const cache = status.cache;
  if (cache) {
    const { hit, miss, bypass } = cache.counters;
    const lookups = hit + miss;
    const ratio = lookups > 0 ? `${Math.round((hit / lookups) * 100)}%` : "–";
    cards.push(stat("Cache hit ratio", ratio, `${hit} hit · ${miss} miss · ${bypass} bypass`));
    cards.push(stat("Cache size", formatBytes(cache.stats.bytes), `${cache.stats.entries} entries of ${formatBytes(cache.stats.maxBytes)}`));
  } else {
    cards.push(stat("Cache", "Off", "no response cache configured"));
  }
  if (typeof status.completionTokens === "number") {
    const rate = tokenRate(current, previous);
    cards.push(stat("Tokens/s", rate === null ? "–" : rate.toFixed(1), `${status.completionTokens} completion tokens in total`));
  } else {
    // Said plainly rather than shown as 0, which would read as an idle gateway.
    cards.push(stat("Tokens/s", "n/a", "not reported by this gateway's status"));
  }
  return cards;
}

/** @param {string} state */
function stateBadge(state) {
  const kind = state === "ready" ? "ok" : state === "starting" || state === "restarting" || state === "unhealthy" ? "warn" : "bad";
  return h("span", { class: `badge badge-${kind}` }, state);
}

/** @param {string} breaker */
function breakerBadge(breaker) {
  const kind = breaker === "closed" ? "ok" : breaker === "half_open" ? "warn" : "bad";
  return h("span", { class: `badge badge-${kind}` }, breaker.replace("_", "-"));
}

/** @param {ShardStatus} s */
function slotsCell(s) {
  const bar = h("span", { class: "slots-bar", "aria-hidden": "true" });
  const fill = h("span", { class: "slots-fill" });
  fill.style.width = `${s.slotsTotal > 0 ? (100 * s.slotsBusy) / s.slotsTotal : 0}%`;
  bar.append(fill);
  return h("td", { class: "slots", "data-label": "Slots busy" }, h("span", { class: "slots-value" }, `${s.slotsBusy} / ${s.slotsTotal}`, bar));
}

/**
 * One card per model with its shards.
 * @param {ModelStatus[]} models
 * @returns {HTMLElement[]}
 */
export function renderModels(models) {
  if (models.length === 0) return [h("p", { class: "muted" }, "No models configured.")];
  return models.map((m) =>
    h(
      "article",
      { class: "card model-card", "data-model": m.model },
      h(
        "header",
        { class: "model-head" },
        h("h3", {}, m.model),
        h("span", { class: "muted" }, `${m.running} running · ${m.waiting} waiting`),
      ),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "shards" },
          h("caption", { class: "visually-hidden" }, `Shards of ${m.model}`),
          h(
            "thead",
            {},
            h("tr", {}, ["Shard", "State", "Breaker", "Slots busy", "Restarts", "Last error"].map((c) => h("th", { scope: "col" }, c))),
          ),
          h(
            "tbody",
            {},
            m.shards.map((s) =>
              h(
                "tr",
                { "data-shard": s.id },
                h("th", { scope: "row" }, h("span", { class: "shard-id" }, s.id), h("span", { class: "shard-kind" }, s.kind)),
                h("td", { "data-label": "State" }, stateBadge(s.state)),
                h("td", { "data-label": "Breaker" }, breakerBadge(s.breaker)),
                slotsCell(s),
                h("td", { class: "num", "data-label": "Restarts" }, String(s.restarts)),
                h("td", { class: "last-error", "data-label": "Last error" }, s.lastError ?? "–"),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
