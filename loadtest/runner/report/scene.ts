/**
 * A chart as a list of drawing primitives. The same scene is written as SVG
 * for the HTML report and rasterised to PNG (no browser, no native library),
 * so both pictures are the same chart.
 */

export type Anchor = "start" | "middle" | "end";

export type Shape =
  | { kind: "line"; x1: number; y1: number; x2: number; y2: number; color: string; width: number }
  | { kind: "polyline"; points: Array<[number, number]>; color: string; width: number }
  | { kind: "rect"; x: number; y: number; w: number; h: number; fill: string }
  | { kind: "circle"; cx: number; cy: number; r: number; fill: string }
  /** `y` is the text's baseline; `rotate: -90` reads bottom to top (y-axis titles). */
  | { kind: "text"; x: number; y: number; text: string; size: number; color: string; anchor: Anchor; bold?: boolean; rotate?: -90 };

export interface Scene {
  width: number;
  height: number;
  background: string;
  /** Accessible name of the chart. */
  title: string;
  shapes: Shape[];
}

/** Approximate width of text in a sans-serif font. @example textWidth("p99", 12) // 21.6 */
export function textWidth(text: string, size: number): number {
  return text.length * size * 0.6;
}
