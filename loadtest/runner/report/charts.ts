/**
 * Chart builders: data → {@link Scene}. Line, scatter, histogram and
 * horizontal bar charts with nice axis ticks, a legend and axis titles.
 */
import { textWidth, type Shape, type Scene } from "./scene.js";

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

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  /** Line width; 0 = markers only. Default 2. */
  width?: number;
  /** Marker radius; default none for lines, 3.5 for scatter. */
  marker?: number;
}

interface Frame {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 68, right: 20, top: 58, bottom: 50 };

/** Tick step of 1, 2 or 5 × 10^k giving about `count` ticks. */
export function niceStep(range: number, count: number): number {
  if (!(range > 0)) return 1;
  const raw = range / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/** @example formatTick(12500) // "12.5k" */
export function formatTick(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  if (abs >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return String(+v.toFixed(abs >= 1 ? 1 : 2));
}

function domain(values: number[], fromZero: boolean): [number, number, number] {
  const lo = fromZero ? 0 : Math.min(...values);
  let hi = Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1, 0.2];
  if (hi <= lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo) * 0.1);
  const step = niceStep(hi - lo, 5);
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step];
}

interface Axes {
  shapes: Shape[];
  sx: (x: number) => number;
  sy: (y: number) => number;
  plot: { x: number; y: number; w: number; h: number };
}

/** Title, grid, ticks and axis titles for the given data ranges. */
function axes(f: Frame, xs: number[], ys: number[], xFromZero: boolean): Axes {
  const width = f.width ?? 860;
  const height = f.height ?? 360;
  const plot = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
  const [x0, x1, xStep] = domain(xs, xFromZero);
  const [y0, y1, yStep] = domain(ys, true);
  const sx = (x: number) => plot.x + ((x - x0) / (x1 - x0)) * plot.w;
  const sy = (y: number) => plot.y + plot.h - ((y - y0) / (y1 - y0)) * plot.h;
  const shapes: Shape[] = [{ kind: "text", x: 16, y: 24, text: f.title, size: 15, color: COLORS.text, anchor: "start", bold: true }];
  for (let y = y0; y <= y1 + yStep / 2; y += yStep) {
    shapes.push({ kind: "line", x1: plot.x, y1: sy(y), x2: plot.x + plot.w, y2: sy(y), color: COLORS.grid, width: 1 });
    shapes.push({ kind: "text", x: plot.x - 8, y: sy(y) + 4, text: formatTick(y), size: 11, color: COLORS.muted, anchor: "end" });
  }
  for (let x = x0; x <= x1 + xStep / 2; x += xStep) {
    shapes.push({ kind: "line", x1: sx(x), y1: plot.y + plot.h, x2: sx(x), y2: plot.y + plot.h + 5, color: COLORS.axis, width: 1 });
    shapes.push({ kind: "text", x: sx(x), y: plot.y + plot.h + 19, text: formatTick(x), size: 11, color: COLORS.muted, anchor: "middle" });
  }
  shapes.push({ kind: "line", x1: plot.x, y1: plot.y + plot.h, x2: plot.x + plot.w, y2: plot.y + plot.h, color: COLORS.axis, width: 1 });
  shapes.push({ kind: "text", x: plot.x + plot.w / 2, y: height - 10, text: f.xLabel, size: 12, color: COLORS.text, anchor: "middle" });
  shapes.push({ kind: "text", x: 18, y: plot.y + plot.h / 2, text: f.yLabel, size: 12, color: COLORS.text, anchor: "middle", rotate: -90 });
  return { shapes, sx, sy, plot };
}

function legend(series: Array<{ name: string; color: string }>, x: number, y: number): Shape[] {
  const shapes: Shape[] = [];
  let at = x;
  for (const s of series) {
    shapes.push({ kind: "rect", x: at, y: y - 9, w: 14, h: 10, fill: s.color });
    shapes.push({ kind: "text", x: at + 19, y, text: s.name, size: 12, color: COLORS.text, anchor: "start" });
    at += 19 + textWidth(s.name, 12) + 18;
  }
  return shapes;
}

function empty(f: Frame, note: string): Scene {
  const width = f.width ?? 860;
  const height = f.height ?? 360;
  return {
    width,
    height,
    background: COLORS.background,
    title: f.title,
    shapes: [
      { kind: "text", x: 16, y: 24, text: f.title, size: 15, color: COLORS.text, anchor: "start", bold: true },
      { kind: "text", x: width / 2, y: height / 2, text: note, size: 13, color: COLORS.muted, anchor: "middle" },
    ],
  };
}

/**
 * Lines (or markers) over a shared x axis.
 * @example lineChart({ title: "TTFT", xLabel: "s", yLabel: "ms", series: [{ name: "p50", color: COLORS.blue, points: [[0, 12], [1, 15]] }] })
 */
export function lineChart(f: Frame & { series: Series[]; xFromZero?: boolean }): Scene {
  const series = f.series.filter((s) => s.points.length > 0);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  if (xs.length === 0) return empty(f, "no data");
  const a = axes(f, xs, ys, f.xFromZero ?? true);
  const shapes = [...a.shapes, ...legend(series, a.plot.x, 44)];
  for (const s of series) {
    const pts = s.points.map(([x, y]): [number, number] => [a.sx(x), a.sy(y)]);
    const width = s.width ?? 2;
    if (width > 0 && pts.length > 1) shapes.push({ kind: "polyline", points: pts, color: s.color, width });
    const r = s.marker ?? (width > 0 && pts.length > 1 ? 0 : 3.5);
    if (r > 0) for (const [x, y] of pts) shapes.push({ kind: "circle", cx: x, cy: y, r, fill: s.color });
  }
  return { width: f.width ?? 860, height: f.height ?? 360, background: COLORS.background, title: f.title, shapes };
}

/**
 * Bars over value ranges, with optional vertical marks (p50, p99).
 * @example histogram({ title: "TTFT", xLabel: "ms", yLabel: "requests", bins: [{ x0: 0, x1: 10, count: 3 }], color: COLORS.blue })
 */
export function histogram(f: Frame & { bins: Array<{ x0: number; x1: number; count: number }>; color: string; marks?: Array<{ x: number; label: string; color: string }> }): Scene {
  if (f.bins.length === 0) return empty(f, "no data");
  const xs = f.bins.flatMap((b) => [b.x0, b.x1]);
  const a = axes(f, xs, f.bins.map((b) => b.count), false);
  const shapes = [...a.shapes];
  for (const b of f.bins) {
    const x = a.sx(b.x0);
    const w = Math.max(1, a.sx(b.x1) - x - 1);
    shapes.push({ kind: "rect", x, y: a.sy(b.count), w, h: a.sy(0) - a.sy(b.count), fill: f.color });
  }
  const marks = f.marks ?? [];
  for (const m of marks) shapes.push({ kind: "line", x1: a.sx(m.x), y1: a.plot.y, x2: a.sx(m.x), y2: a.plot.y + a.plot.h, color: m.color, width: 2 });
  shapes.push(...legend(marks.map((m) => ({ name: m.label, color: m.color })), a.plot.x, 44));
  return { width: f.width ?? 860, height: f.height ?? 360, background: COLORS.background, title: f.title, shapes };
}

/**
 * Horizontal bars with their values written at the end.
 * @example barChart({ title: "Outcomes", bars: [{ label: "200", value: 95, color: COLORS.green }] })
 */
export function barChart(f: { title: string; bars: Array<{ label: string; value: number; color: string }>; width?: number; note?: string }): Scene {
  const width = f.width ?? 860;
  const rowH = 28;
  const height = Math.max(120, 64 + f.bars.length * rowH + (f.note ? 20 : 0));
  if (f.bars.length === 0) return empty({ title: f.title, xLabel: "", yLabel: "", width, height }, f.note ?? "no data");
  const labelW = Math.max(...f.bars.map((b) => textWidth(b.label, 12))) + 24;
  const max = Math.max(...f.bars.map((b) => b.value), 1);
  const plotW = width - labelW - 90;
  const shapes: Shape[] = [{ kind: "text", x: 16, y: 24, text: f.title, size: 15, color: COLORS.text, anchor: "start", bold: true }];
  f.bars.forEach((b, k) => {
    const y = 48 + k * rowH;
    const w = Math.max(b.value > 0 ? 2 : 0, (b.value / max) * plotW);
    shapes.push({ kind: "text", x: labelW - 8, y: y + 15, text: b.label, size: 12, color: COLORS.text, anchor: "end" });
    shapes.push({ kind: "rect", x: labelW, y: y + 3, w, h: rowH - 8, fill: b.color });
    shapes.push({ kind: "text", x: labelW + w + 6, y: y + 15, text: formatTick(b.value), size: 12, color: COLORS.text, anchor: "start" });
  });
  if (f.note) shapes.push({ kind: "text", x: 16, y: height - 10, text: f.note, size: 11, color: COLORS.muted, anchor: "start" });
  return { width, height, background: COLORS.background, title: f.title, shapes };
}

/**
 * Scenes one above the other, as one picture (same width assumed).
 * @example stack("Latency", [ttftScene, e2eScene])
 */
export function stack(title: string, scenes: Scene[]): Scene {
  const shapes: Shape[] = [];
  let dy = 0;
  for (const s of scenes) {
    for (const sh of s.shapes) shapes.push(shift(sh, dy));
    dy += s.height;
  }
  return { width: Math.max(...scenes.map((s) => s.width)), height: dy, background: COLORS.background, title, shapes };
}

function shift(s: Shape, dy: number): Shape {
  switch (s.kind) {
    case "line":
      return { ...s, y1: s.y1 + dy, y2: s.y2 + dy };
    case "polyline":
      return { ...s, points: s.points.map(([x, y]): [number, number] => [x, y + dy]) };
    case "rect":
      return { ...s, y: s.y + dy };
    case "circle":
      return { ...s, cy: s.cy + dy };
    case "text":
      return { ...s, y: s.y + dy };
  }
}
