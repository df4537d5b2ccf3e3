/**
 * `npm run loadtest -- <scenario> [options]`: see {@link USAGE}. Exit status 0
 * when every threshold passed, 99 when one failed (as k6 does), 2 on bad usage
 * or an unreachable target.
 */
import { parseCli, USAGE } from "./args.js";
import { formatSummary } from "./console-summary.js";
import { writeResults } from "./results.js";
import { runScenario } from "./run.js";
import { listScenarios, loadScenario, scaleScenario } from "./scenario.js";

async function main(): Promise<number> {
  const opts = parseCli(process.argv.slice(2), process.env);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (opts.list || !opts.scenario) {
    console.log(`${opts.scenario ? "" : `${USAGE}\n`}Scenarios: ${(await listScenarios()).join(", ")}`);
    return opts.scenario || opts.list ? 0 : 2;
  }
  const scenario = scaleScenario(await loadScenario(opts.scenario), opts);
  const log = opts.quiet ? undefined : (line: string) => console.error(line);
  const result = await runScenario({
    scenario,
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    allowRemote: opts.allowRemote,
    seed: opts.seed,
    durationScale: opts.durationScale,
    rateScale: opts.rateScale,
    ...(opts.maxInFlight ? { maxInFlight: opts.maxInFlight } : {}),
    ...(opts.gracefulStopMs !== undefined ? { gracefulStopMs: opts.gracefulStopMs } : {}),
    localGateway: opts.localGateway,
    ...(log ? { log } : {}),
  });
  const files = await writeResults(result, opts.outDir);
  console.log(formatSummary(result));
  console.log(`\nresults: ${files.json}\nreport:  ${files.html}`);
  return result.summary.passed ? 0 : 99;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`loadtest: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
