/** Scene → standalone SVG markup (inline in the HTML report; no external assets). */
import type { Scene, Shape } from "./scene.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n = (v: number) => String(Math.round(v * 10) / 10);

function shapeSvg(s: Shape): string {
  switch (s.kind) {
    case "line":
      return `<line x1="${n(s.x1)}" y1="${n(s.y1)}" x2="${n(s.x2)}" y2="${n(s.y2)}" stroke="${s.color}" stroke-width="${s.width}"/>`;
    case "polyline":
      return `<polyline points="${s.points.map(([x, y]) => `${n(x)},${n(y)}`).join(" ")}" fill="none" stroke="${s.color}" stroke-width="${s.width}" stroke-linejoin="round" stroke-linecap="round"/>`;
    case "rect":
      return `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w)}" height="${n(s.h)}" fill="${s.fill}"/>`;
    case "circle":
      return `<circle cx="${n(s.cx)}" cy="${n(s.cy)}" r="${n(s.r)}" fill="${s.fill}"/>`;
    case "text": {
      const rotate = s.rotate ? ` transform="rotate(${s.rotate} ${n(s.x)} ${n(s.y)})"` : "";
      const weight = s.bold ? ` font-weight="bold"` : "";
      return `<text x="${n(s.x)}" y="${n(s.y)}" font-size="${s.size}" fill="${s.color}" text-anchor="${s.anchor}"${weight}${rotate}>${esc(s.text)}</text>`;
    }
  }
}

/**
 * @example const markup = toSvg(latencyChart(result)); // "<svg ...>...</svg>"
 */
export function toSvg(scene: Scene): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${scene.width} ${scene.height}" width="${scene.width}" height="${scene.height}" role="img" aria-label="${esc(scene.title)}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">`,
    `<title>${esc(scene.title)}</title>`,
    `<rect width="100%" height="100%" fill="${scene.background}"/>`,
    ...scene.shapes.map(shapeSvg),
    `</svg>`,
  ].join("\n");
}
