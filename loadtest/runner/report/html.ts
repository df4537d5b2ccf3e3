/**
 * The HTML report: one self-contained file (inline CSS and SVG, no scripts,
 * no CDN) that opens anywhere, including as a CI artifact.
 */
import type { Distribution, RunResult } from "../types.js";
import { latencyOverTime, loadOverTime, outcomeBreakdown, tokensVsConcurrency, ttftHistogram } from "./figures.js";

/** Charts shown two to a row. */
const HALF = { width: 560, height: 340 };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
const num = (v: number, digits = 1) => (Number.isInteger(v) ? String(v) : v.toFixed(digits));
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function card(label: string, value: string, sub = ""): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div>${sub ? `<div class="sub">${esc(sub)}</div>` : ""}</div>`;
}

function latencyRow(name: string, d: Distribution | null, what: string): string {
  if (!d) return `<tr><th>${esc(name)}</th><td colspan="6" class="muted">no samples</td><td class="muted">${esc(what)}</td></tr>`;
  return `<tr><th>${esc(name)}</th><td>${d.count}</td><td>${ms(d.mean)}</td><td>${ms(d.p50)}</td><td>${ms(d.p90)}</td><td>${ms(d.p99)}</td><td>${ms(d.max)}</td><td class="muted">${esc(what)}</td></tr>`;
}

const CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;background:#f3f4f6;margin:0}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px}
.muted{color:#6b7280}.desc{color:#374151;max-width:900px}
.verdict{display:inline-block;padding:4px 12px;border-radius:999px;font-weight:600;margin:8px 0}
.pass{background:#dcfce7;color:#166534}.fail{background:#fee2e2;color:#991b1b}
.warn{background:#fef3c7;border:1px solid #fcd34d;padding:8px 12px;border-radius:8px;margin:12px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;margin:16px 0}
.card{background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 2px #0001}
.card .label{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:650}.card .sub{font-size:12px;color:#6b7280}
figure{background:#fff;border-radius:10px;padding:8px;margin:12px 0;box-shadow:0 1px 2px #0001}
figure svg{width:100%;height:auto;display:block}figcaption{font-size:13px;color:#4b5563;padding:4px 8px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}@media(max-width:900px){.grid{grid-template-columns:1fr}}
table{border-collapse:collapse;background:#fff;border-radius:10px;overflow:hidden;box-shadow:0 1px 2px #0001;width:100%}
th,td{padding:6px 10px;text-align:left;border-bottom:1px solid #e5e7eb;font-variant-numeric:tabular-nums}
thead th{background:#f9fafb;font-size:13px;color:#374151}
.ok{color:#166534;font-weight:600}.bad{color:#991b1b;font-weight:600}
dl{background:#fff;border-radius:10px;padding:12px 16px;box-shadow:0 1px 2px #0001}dt{font-weight:600}dd{margin:0 0 8px}
`;

/**
 * @example await writeFile("results/steady.html", renderHtml(result));
 */
export function renderHtml(result: RunResult): string {
  const { summary: s, scenario, target } = result;
  const lat = s.latencyMs;
  const hits = s.cache.hit ?? 0;
  const cached = Object.values(s.cache).reduce((a, b) => a + b, 0);
  const evaluated = s.thresholds.filter((t) => t.passed !== undefined);
  const verdict = s.passed ? `<span class="verdict pass">PASS: ${evaluated.length} thresholds met</span>` : `<span class="verdict fail">FAIL: ${evaluated.filter((t) => !t.passed).length} of ${evaluated.length} thresholds missed</span>`;
  const gw = target.localGateway;
  const targetText = target.local && gw ? `in-process gateway on the generated tiny model (shards ${gw.shards}, slots ${gw.slots}, context ${gw.contextSize}, queue.maxDepth ${gw.queueMaxDepth})` : target.baseUrl;

  const cards = [
    card("Requests", String(s.requests.total), `${s.requests.ok} ok, ${s.requests.failed} failed${s.requests.dropped ? `, ${s.requests.dropped} dropped` : ""}`),
    card("Goodput", `${num(s.goodput.requestsPerS, 2)} req/s`, `${pct(s.goodput.fraction)} within SLO (TTFT ≤ ${s.goodput.slo.ttftMs} ms, TPOT ≤ ${s.goodput.slo.tpotMs} ms${s.goodput.slo.e2eMs ? `, e2e ≤ ${s.goodput.slo.e2eMs} ms` : ""})`),
    card("TTFT p50 / p99", `${ms(lat.ttft?.p50)} / ${ms(lat.ttft?.p99)}`, "time to first token"),
    card("TPOT p50 / p99", `${ms(lat.tpot?.p50)} / ${ms(lat.tpot?.p99)}`, "time per output token"),
    card("ITL p50 / p99", `${ms(lat.itl?.p50)} / ${ms(lat.itl?.p99)}`, "gap between streamed chunks"),
    card("E2E p50 / p99", `${ms(lat.e2e?.p50)} / ${ms(lat.e2e?.p99)}`, "request start to last byte"),
    card("Output tokens/s", num(s.throughput.outputTokensPerS), `${s.throughput.outputTokens} tokens in ${num(s.throughput.durationS)} s`),
    card("Request throughput", `${num(s.throughput.requestsPerS, 2)} req/s`, "completed, any status"),
    ...(cached ? [card("Cache hits", pct(hits / cached), `${hits} of ${cached} successful responses`)] : []),
    ...(s.knee
      ? [
          s.knee.sloBroke
            ? card("Knee", `${num(s.knee.offeredRps)} req/s`, `highest offered rate before under 90% of arrivals met the SLO (${s.knee.atS} s in)`)
            : card("Knee", `> ${num(s.knee.offeredRps)} req/s`, "the SLO held for the whole ramp: ramp higher"),
        ]
      : []),
  ].join("");

  const thresholdRows = s.thresholds
    .map((t) => {
      const state = t.passed === undefined ? `<td class="muted">skipped: ${esc(t.note ?? "")}</td>` : t.passed ? `<td class="ok">pass</td>` : `<td class="bad">FAIL</td>`;
      return `<tr><th>${esc(t.metric)}</th><td><code>${esc(t.expression)}</code></td><td>${t.value ?? "–"}</td>${state}</tr>`;
    })
    .join("");
  const errorRows = s.requests.errors.map((e) => `<tr><td>${e.status || "none"}</td><td>${esc(e.code ?? "")}</td><td>${esc(e.message)}</td><td>${e.count}</td></tr>`).join("");
  const violationRows = Object.entries(s.requests.violationsByCheck)
    .map(([check, count]) => `<tr><td>${esc(check)}</td><td>${count}</td></tr>`)
    .join("");

  const figure = (svg: string, caption: string) => `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Switchyard load test: ${esc(scenario.name)}</title><style>${CSS}</style></head>
<body><main>
<h1>Switchyard load test: ${esc(scenario.name)}</h1>
<div class="muted">${esc(result.startedAt)} · ${esc(targetText)} · model <code>${esc(target.model)}</code> · duration scale ${result.options.durationScale}, rate scale ${result.options.rateScale}, in-flight cap ${result.options.maxInFlight}</div>
<p class="desc">${esc(scenario.description)}</p>
${verdict}
${target.local ? `<div class="warn">This run used the generated tiny model: it exercises the real gateway, router and llama.cpp path, but its text is meaningless and its speed says nothing about a real model. Point <code>--base-url</code> at a deployment for numbers that matter.</div>` : ""}
<div class="cards">${cards}</div>
${figure(latencyOverTime(result), "Percentiles per time bucket, by request start. A rising TTFT with a flat decode means requests are queueing: the gateway is past its knee.")}
${figure(loadOverTime(result), "Offered is the arrival schedule; when completed falls below it, or goodput below completed, the deployment is saturated.")}
<div class="grid">
${figure(tokensVsConcurrency(result, HALF), "Batching raises tokens/s with concurrency until the slots or the accelerator are full; beyond that, concurrency only adds queueing.")}
${figure(ttftHistogram(result, HALF), "The slowest 1% are folded into the last bar. A long right tail is queueing or cold prefixes; two humps usually mean cache hits and misses.")}
</div>
${figure(outcomeBreakdown(result), "Every arrival and what became of it.")}
<h2>Thresholds</h2>
<table><thead><tr><th>metric</th><th>threshold</th><th>value</th><th>result</th></tr></thead><tbody>${thresholdRows || `<tr><td colspan="4" class="muted">none defined</td></tr>`}</tbody></table>
<h2>Latency</h2>
<table><thead><tr><th></th><th>count</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>measured</th></tr></thead><tbody>
${latencyRow("TTFT", lat.ttft, "client, first text chunk (streams); gateway queue + ttft otherwise")}
${latencyRow("TPOT", lat.tpot, "(e2e − TTFT) / (output tokens − 1)")}
${latencyRow("ITL", lat.itl, "client, gaps between text chunks")}
${latencyRow("E2E", lat.e2e, "client, start to last byte")}
${latencyRow("gateway TTFT", lat.serverTtft, "switchyard.queue_ms + ttft_ms")}
${latencyRow("gateway TPOT", lat.serverTpot, "switchyard.decode_ms / (tokens − 1)")}
${latencyRow("queue", lat.queue, "switchyard.queue_ms")}
</tbody></table>
<h2>Failures</h2>
${errorRows ? `<table><thead><tr><th>status</th><th>code</th><th>message</th><th>count</th></tr></thead><tbody>${errorRows}</tbody></table>` : `<p class="muted">No failed requests.</p>`}
${violationRows ? `<h2>Contract violations</h2><table><thead><tr><th>check</th><th>responses</th></tr></thead><tbody>${violationRows}</tbody></table>` : ""}
<h2>Vocabulary</h2>
<dl>
<dt>TTFT (time to first token)</dt><dd>Request sent to first output text received; includes queueing and prefill. What a chat user feels as responsiveness.</dd>
<dt>TPOT (time per output token)</dt><dd>Average time per token after the first: (e2e − TTFT) / (output tokens − 1). Reading speed of the stream.</dd>
<dt>ITL (inter-token latency)</dt><dd>Each gap between consecutive streamed chunks. Its p99 shows stalls that TPOT averages away.</dd>
<dt>E2E latency</dt><dd>Request sent to last byte received.</dd>
<dt>Output tokens/s</dt><dd>Completion tokens generated per second across all requests: the deployment's throughput.</dd>
<dt>Request throughput</dt><dd>Requests completed per second.</dd>
<dt>Goodput</dt><dd>Requests per second that succeeded <em>and</em> met the SLO (TTFT, TPOT and e2e bounds of the scenario). Throughput that users would accept.</dd>
</dl>
<p class="muted">Generated by <code>npm run loadtest</code>. Per-request records are in the JSON file next to this report.</p>
</main></body></html>
`;
}
