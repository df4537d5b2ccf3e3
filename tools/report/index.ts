/** Shared chart code of the benchmark page (bench/report.ts) and the load-test report (loadtest/runner/report). */
export { barChart, COLORS, histogram, lineChart, panels } from "./charts.js";
export type { ChartSize } from "./charts.js";
