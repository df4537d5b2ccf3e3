/**
 * Scene → RGB pixels, supersampled for smooth lines: a small software
 * rasteriser (rectangles, discs stamped along lines, a bitmap font) so the PNG
 * needs no browser and no native library.
 */
import { GLYPH_ADVANCE, glyph } from "./font.js";
import type { Anchor, Scene } from "./scene.js";

export interface Pixels {
  width: number;
  height: number;
  /** RGB, row-major, 3 bytes per pixel. */
  rgb: Uint8Array;
}

type Rgb = [number, number, number];

/** `#rgb` or `#rrggbb`. @example parseColor("#2563eb") // [37, 99, 235] */
export function parseColor(color: string): Rgb {
  const hex = color.replace(/^#/, "");
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex;
  const v = Number.parseInt(full, 16);
  if (full.length !== 6 || Number.isNaN(v)) throw new Error(`unsupported color '${color}' (use #rrggbb)`);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

class Canvas {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb,
  ) {
    this.rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.rgb.set(background, i * 3);
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.rgb.set(c, (yy * this.width + xx) * 3);
  }

  disc(cx: number, cy: number, r: number, c: Rgb): void {
    const r2 = r * r;
    for (let yy = Math.max(0, Math.floor(cy - r)); yy <= Math.min(this.height - 1, Math.ceil(cy + r)); yy++) {
      for (let xx = Math.max(0, Math.floor(cx - r)); xx <= Math.min(this.width - 1, Math.ceil(cx + r)); xx++) {
        const dx = xx + 0.5 - cx;
        const dy = yy + 0.5 - cy;
        if (dx * dx + dy * dy <= r2) this.rgb.set(c, (yy * this.width + xx) * 3);
      }
    }
  }

  /** A thick line: discs stamped every half pixel, which also rounds the joins of polylines. */
  line(x1: number, y1: number, x2: number, y2: number, width: number, c: Rgb): void {
    const r = Math.max(0.75, width / 2);
    const steps = Math.max(1, Math.ceil(Math.hypot(x2 - x1, y2 - y1) * 2));
    for (let s = 0; s <= steps; s++) this.disc(x1 + ((x2 - x1) * s) / steps, y1 + ((y2 - y1) * s) / steps, r, c);
  }

  /** Bitmap text, `px` canvas pixels per font pixel; (x, y) is the anchor on the baseline. */
  text(x: number, y: number, text: string, px: number, c: Rgb, anchor: Anchor, rotate: boolean, bold: boolean): void {
    const width = text.length * GLYPH_ADVANCE * px;
    const start = anchor === "start" ? 0 : anchor === "middle" ? -width / 2 : -width;
    for (let k = 0; k < text.length; k++) {
      const cols = glyph(text[k] ?? " ");
      for (let col = 0; col < cols.length; col++) {
        const bits = cols[col] ?? 0;
        for (let row = 0; row < 8; row++) {
          if (!((bits >> row) & 1)) continue;
          // Glyph row 6 sits on the baseline; row 7 is the descender.
          const dx = start + (k * GLYPH_ADVANCE + col) * px;
          const dy = (row - 6) * px - px;
          const w = bold ? px * 1.6 : px;
          if (rotate) this.fillRect(x + dy, y - dx - w, px, w, c);
          else this.fillRect(x + dx, y + dy, w, px, c);
        }
      }
    }
  }

  /** Box filter down by an integer factor. */
  downsample(f: number): Pixels {
    const w = Math.floor(this.width / f);
    const h = Math.floor(this.height / f);
    const out = new Uint8Array(w * h * 3);
    const area = f * f;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let sy = 0; sy < f; sy++) {
          let i = ((y * f + sy) * this.width + x * f) * 3;
          for (let sx = 0; sx < f; sx++, i += 3) {
            r += this.rgb[i] ?? 0;
            g += this.rgb[i + 1] ?? 0;
            b += this.rgb[i + 2] ?? 0;
          }
        }
        const o = (y * w + x) * 3;
        out[o] = Math.round(r / area);
        out[o + 1] = Math.round(g / area);
        out[o + 2] = Math.round(b / area);
      }
    }
    return { width: w, height: h, rgb: out };
  }
}

/**
 * @param supersample canvas pixels per output pixel per axis (3 = smooth enough for charts)
 * @example const { width, height, rgb } = rasterize(scene); await writeFile("chart.png", encodePng(width, height, rgb));
 */
export function rasterize(scene: Scene, supersample = 3): Pixels {
  const f = supersample;
  const canvas = new Canvas(scene.width * f, scene.height * f, parseColor(scene.background));
  for (const s of scene.shapes) {
    switch (s.kind) {
      case "rect":
        canvas.fillRect(s.x * f, s.y * f, s.w * f, s.h * f, parseColor(s.fill));
        break;
      case "circle":
        canvas.disc(s.cx * f, s.cy * f, s.r * f, parseColor(s.fill));
        break;
      case "line":
        canvas.line(s.x1 * f, s.y1 * f, s.x2 * f, s.y2 * f, s.width * f, parseColor(s.color));
        break;
      case "polyline": {
        const c = parseColor(s.color);
        for (let k = 1; k < s.points.length; k++) {
          const [ax, ay] = s.points[k - 1] ?? [0, 0];
          const [bx, by] = s.points[k] ?? [0, 0];
          canvas.line(ax * f, ay * f, bx * f, by * f, s.width * f, c);
        }
        if (s.points.length === 1) {
          const [x, y] = s.points[0] ?? [0, 0];
          canvas.disc(x * f, y * f, s.width * f, c);
        }
        break;
      }
      case "text": {
        // The 5×8 font reads like a ~10 px sans-serif at one canvas pixel per output pixel.
        const px = Math.max(1, Math.round((s.size * f) / 10));
        canvas.text(s.x * f, s.y * f, s.text, px, parseColor(s.color), s.anchor, s.rotate === -90, s.bold === true);
        break;
      }
    }
  }
  return canvas.downsample(f);
}
