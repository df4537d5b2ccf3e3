/** Shared chart code of the benchmark page (bench/report.ts) and the load-test report (loadtest/runner/report). */
export { barChart, COLORS, formatTick, histogram, lineChart, panels, renderSvg } from "./charts.js";
export type { ChartSize, Panel, Series } from "./charts.js";
