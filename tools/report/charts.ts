/**
 * Charts for the benchmark page and the load-test report, drawn by Apache
 * ECharts' server-side SVG renderer (`ssr: true` + `renderToSVGString`): axes
 * with nice ticks, legends, titles and an accessible description come from
 * the library; this module only maps our data onto its options.
 *
 * Every builder returns standalone SVG markup (no script, no external asset),
 * so it can be written to a file or inlined in a self-contained HTML page.
 */
import * as echarts from "echarts";
import type { EChartsOption, SeriesOption } from "echarts";

/** The palette the reports share; pass these (or any CSS colour) to {@link Series.color}. */
export const COLORS = {
  text: "#111827",
  muted: "#6b7280",
  grid: "#e5e7eb",
  axis: "#9ca3af",
  background: "#ffffff",
  blue: "#2563eb",
  sky: "#60a5fa",
  navy: "#1e3a8a",
  green: "#16a34a",
  red: "#dc2626",
  orange: "#ea580c",
  purple: "#9333ea",
  amber: "#d97706",
} as const;

/** Picture size in CSS pixels. Defaults: 860 × 360. */
export interface ChartSize {
  width?: number;
  height?: number;
}

/** One line (or set of markers) of a {@link lineChart}. */
export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  /** Line width; 0 draws markers only (a scatter). Default 2. */
  width?: number;
  /** Marker size in pixels; default none on a line, 7 on a scatter. */
  marker?: number;
}

/** One panel of a {@link panels} chart: a y axis over the shared x axis. */
export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const TITLE_STYLE = { fontSize: 15, fontWeight: "bold", color: COLORS.text, fontFamily: FONT } as const;
const AXIS_NAME = { color: COLORS.text, fontSize: 12, fontFamily: FONT } as const;
const AXIS_LABEL = { color: COLORS.muted, fontSize: 11, fontFamily: FONT, formatter: formatTick } as const;
const SPLIT_LINE = { lineStyle: { color: COLORS.grid } } as const;

/**
 * Short tick labels: 12500 → "12.5k", 0.125 → "0.13".
 * @example formatTick(12500) // "12.5k"
 */
export function formatTick(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  if (abs >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return String(+v.toFixed(abs >= 1 ? 1 : 2));
}

/**
 * Renders an ECharts option to SVG on the server. Animation is off (there is
 * no frame to animate) and `aria` is on, so the SVG carries a description of
 * its series for screen readers.
 *
 * @example renderSvg({ xAxis: { type: "value" }, yAxis: { type: "value" }, series: [{ type: "line", data: [[0, 1]] }] })
 */
export function renderSvg(option: EChartsOption, size: ChartSize = {}): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: size.width ?? 860, height: size.height ?? 360 });
  try {
    chart.setOption({ animation: false, backgroundColor: COLORS.background, aria: { enabled: true }, textStyle: { fontFamily: FONT }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function lineSeries(s: Series, gridIndex = 0): SeriesOption {
  const width = s.width ?? 2;
  const scatter = width === 0;
  return {
    type: "line",
    name: s.name,
    xAxisIndex: gridIndex,
    yAxisIndex: gridIndex,
    data: s.points,
    color: s.color,
    lineStyle: { width, opacity: scatter ? 0 : 1 },
    showSymbol: scatter || s.marker !== undefined,
    symbolSize: s.marker ?? 7,
  };
}

function noData(title: string, note: string, size: ChartSize): string {
  return renderSvg({ title: [{ text: title, textStyle: TITLE_STYLE }, { text: note, left: "center", top: "middle", textStyle: { color: COLORS.muted, fontSize: 13, fontWeight: "normal" } }] }, size);
}

/**
 * Lines (or markers) over a shared numeric x axis, with a legend.
 * @example lineChart({ title: "TTFT", xLabel: "s", yLabel: "ms", series: [{ name: "p50", color: COLORS.blue, points: [[0, 12], [1, 15]] }] })
 */
export function lineChart(f: ChartSize & { title: string; xLabel: string; yLabel: string; series: Series[]; xFromZero?: boolean }): string {
  const series = f.series.filter((s) => s.points.length > 0);
  if (series.length === 0) return noData(f.title, "no data", f);
  return renderSvg(
    {
      title: { text: f.title, textStyle: TITLE_STYLE },
      legend: { top: 30, left: 60, data: series.map((s) => s.name) },
      grid: { left: 70, right: 30, top: 70, bottom: 55 },
      xAxis: { type: "value", name: f.xLabel, nameLocation: "middle", nameGap: 30, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, scale: !(f.xFromZero ?? true), splitLine: SPLIT_LINE },
      yAxis: { type: "value", name: f.yLabel, nameLocation: "middle", nameGap: 48, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, splitLine: SPLIT_LINE },
      series: series.map((s) => lineSeries(s)),
    },
    f,
  );
}

/**
 * Panels stacked one above the other over the same x axis (for example TTFT
 * and end-to-end percentiles over time), under one title and subtitle.
 * @example panels({ title: "Latency", xLabel: "s", panels: [{ title: "TTFT", yLabel: "ms", series }] })
 */
export function panels(f: ChartSize & { title: string; subtitle?: string; xLabel: string; panels: Panel[] }): string {
  const top = 64;
  const panelH = 300;
  const height = f.height ?? top + f.panels.length * panelH;
  const grids = f.panels.map((_, k) => ({ left: 70, right: 30, top: top + k * panelH + 70, height: panelH - 125 }));
  const names = [...new Set(f.panels.flatMap((p) => p.series.filter((s) => s.points.length > 0).map((s) => s.name)))];
  return renderSvg(
    {
      title: [
        { text: f.title, subtext: f.subtitle ?? "", textStyle: { ...TITLE_STYLE, fontSize: 17 } },
        ...f.panels.map((p, k) => ({ text: p.title, top: top + k * panelH + 18, textStyle: TITLE_STYLE })),
      ],
      grid: grids,
      legend: f.panels.map((p, k) => ({ top: top + k * panelH + 42, left: 60, data: p.series.map((s) => s.name) })),
      xAxis: f.panels.map((_, k) => ({ type: "value" as const, gridIndex: k, name: f.xLabel, nameLocation: "middle" as const, nameGap: 30, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, splitLine: SPLIT_LINE })),
      yAxis: f.panels.map((p, k) => ({ type: "value" as const, gridIndex: k, name: p.yLabel, nameLocation: "middle" as const, nameGap: 48, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, splitLine: SPLIT_LINE })),
      series: f.panels.flatMap((p, k) => p.series.filter((s) => s.points.length > 0).map((s) => lineSeries(s, k))),
      // Legend entries with no data would otherwise be greyed out; list only drawn names.
      ...(names.length === 0 ? { graphic: { type: "text", left: "center", top: "middle", style: { text: "no data", fill: COLORS.muted } } } : {}),
    },
    { width: f.width ?? 860, height },
  );
}

/**
 * Bars over value ranges, with optional vertical marks (p50, p99, an SLO).
 * @example histogram({ title: "TTFT", xLabel: "ms", yLabel: "requests", bins: [{ x0: 0, x1: 10, count: 3 }], color: COLORS.blue })
 */
export function histogram(
  f: ChartSize & { title: string; xLabel: string; yLabel: string; bins: Array<{ x0: number; x1: number; count: number }>; color: string; marks?: Array<{ x: number; label: string; color: string }> },
): string {
  if (f.bins.length === 0) return noData(f.title, "no data", f);
  const marks = f.marks ?? [];
  return renderSvg(
    {
      title: { text: f.title, textStyle: TITLE_STYLE },
      legend: { top: 30, left: 60, data: marks.map((m) => m.label) },
      grid: { left: 70, right: 30, top: 70, bottom: 55 },
      xAxis: { type: "value", name: f.xLabel, nameLocation: "middle", nameGap: 30, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, scale: true, splitLine: { show: false } },
      yAxis: { type: "value", name: f.yLabel, nameLocation: "middle", nameGap: 48, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, splitLine: SPLIT_LINE, minInterval: 1 },
      series: [
        {
          type: "custom",
          name: "requests",
          color: f.color,
          data: f.bins.map((b) => [b.x0, b.x1, b.count]),
          encode: { x: [0, 1], y: 2 },
          renderItem: (_params, api) => {
            const [x0, y0] = api.coord([api.value(0), 0]) as [number, number];
            const [x1, y1] = api.coord([api.value(1), api.value(2)]) as [number, number];
            return { type: "rect", shape: { x: x0, y: y1, width: Math.max(1, x1 - x0 - 1), height: y0 - y1 }, style: { fill: f.color } };
          },
        },
        // One empty line series per mark, so each mark has a legend entry in its colour.
        ...marks.map(
          (m): SeriesOption => ({
            type: "line",
            name: m.label,
            color: m.color,
            data: [],
            markLine: { symbol: "none", silent: true, label: { show: false }, lineStyle: { color: m.color, width: 2, type: "solid" }, data: [{ xAxis: m.x }] },
          }),
        ),
      ],
    },
    f,
  );
}

/**
 * Horizontal bars with their values written at the end: one bar per category
 * (a scenario, a path, a status), for side-by-side comparison.
 * @example barChart({ title: "Outcomes", bars: [{ label: "200", value: 95, color: COLORS.green }] })
 */
export function barChart(f: { title: string; bars: Array<{ label: string; value: number; color: string }>; width?: number; note?: string; xLabel?: string }): string {
  const width = f.width ?? 860;
  const height = Math.max(160, 110 + f.bars.length * 32 + (f.note ? 20 : 0));
  if (f.bars.length === 0) return noData(f.title, f.note ?? "no data", { width, height });
  const longest = Math.max(...f.bars.map((b) => b.label.length));
  return renderSvg(
    {
      title: { text: f.title, textStyle: TITLE_STYLE, ...(f.note ? { subtext: f.note, subtextStyle: { color: COLORS.muted, fontSize: 11 } } : {}) },
      grid: { left: Math.min(320, 24 + longest * 7), right: 70, top: f.note ? 64 : 48, bottom: 44 },
      xAxis: { type: "value", name: f.xLabel ?? "", nameLocation: "middle", nameGap: 28, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, splitLine: SPLIT_LINE },
      yAxis: { type: "category", inverse: true, data: f.bars.map((b) => b.label), axisLabel: { color: COLORS.text, fontSize: 12 } },
      series: [
        {
          type: "bar",
          name: f.title,
          data: f.bars.map((b) => ({ value: b.value, itemStyle: { color: b.color } })),
          barMaxWidth: 22,
          label: { show: true, position: "right", formatter: (p) => formatTick(Number(p.value)), color: COLORS.text },
        },
      ],
    },
    { width, height },
  );
}
