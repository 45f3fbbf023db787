/**
 * `pnpm bench`: runs the seven measurements, prints the table and writes results.json.
 *
 *   --smoke            tiny counts, every measurement (or BENCH_SMOKE=1); writes to the temp dir
 *   --only a,b         only these: overhead, storm, roundTrips, bundle, memory, fleet, code
 *   --out <path>       where to write the results (default: apps/bench/results.json)
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_DIR } from './child.js';
import { FULL, SMOKE } from './config.js';
import { MEASUREMENTS, type Measurement } from './results.js';
import { runBenchmarks } from './run.js';
import { renderResults } from './table.js';

function option(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
}

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const only = option(args, '--only')
  ?.split(',')
  .map((name) => name.trim())
  .filter((name): name is Measurement => (MEASUREMENTS as readonly string[]).includes(name));
const out = resolve(
  option(args, '--out') ??
    (smoke ? join(tmpdir(), 'mcp-oauth-bench.smoke.json') : join(BENCH_DIR, 'results.json')),
);

const results = await runBenchmarks(smoke ? SMOKE : FULL, {
  ...(only === undefined ? {} : { only }),
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});
process.stdout.write(`${renderResults(results)}\n`);
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`bench: wrote ${out}\n`);
