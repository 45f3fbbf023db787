/**
 * The README's "Benchmarks" section, rendered from one run's `results.json` and nothing else, so
 * that every claim there is a number that run measured. `pnpm --filter @mcp-oauth/bench readme`
 * rewrites the section; `readme-section.test.ts` fails when the README and results.json disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The parts of results.json the section reads (every other field is ignored). */
interface Results {
  readonly startedAt: string;
  readonly mode: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  readonly overhead?: ReadonlyArray<{
    library: string;
    ratio: number;
    cpuRatio?: number;
    ratioMin?: number;
    ratioMax?: number;
  }>;
  readonly storm?: ReadonlyArray<{
    client: string;
    scenario: string;
    concurrency: number;
    tokenRequests: number;
    failures: number;
    prompts: number;
    drainMs: number;
    renewsAfterwards?: boolean;
  }>;
  readonly roundTrips?: ReadonlyArray<{
    client: string;
    cold: Record<string, number>;
    warm: Record<string, number>;
    warmExpired: Record<string, number>;
  }>;
  readonly bundle?: {
    /** Results before the common path was measured per adapter. */
    readonly rows?: ReadonlyArray<{
      name: string;
      gzipBytes: number;
      typicalGzipBytes: number;
      ours: boolean;
    }>;
    readonly entries?: ReadonlyArray<{ name: string; gzipBytes: number }>;
    /** `OAuthSession` + each adapter's `withOAuth`; every core entry point; the SDK's auth. */
    readonly commonPaths?: ReadonlyArray<{ name: string; gzipBytes: number; error?: string }>;
    readonly coreEntries?: ReadonlyArray<{ name: string; gzipBytes: number; error?: string }>;
    readonly sdk?: ReadonlyArray<{ name: string; gzipBytes: number; error?: string }>;
  };
  readonly memory?: ReadonlyArray<{
    library: string;
    adapterAllocationPerRequest: number;
    bareAllocationPerRequest: number;
    adapterGrowthPerRequest: number;
    bareGrowthPerRequest: number;
  }>;
  readonly code?: {
    readonly adapterLines?: Readonly<Record<string, number>>;
    readonly rootExports?: number;
    readonly adapters?: ReadonlyArray<{
      adapter: string;
      codeLines: number;
      roles?: { shim: number; httpClient: number; other: number };
    }>;
    readonly coreRootExports?: { readonly total: number; readonly values: number; readonly types: number };
  };
  readonly fleet?: ReadonlyArray<{
    scenario: string;
    processes?: number;
    callsPerProcess?: number;
    refreshes?: number;
    tokenRequests?: number;
    failures?: number;
    drainMs?: number;
  }>;
}

const HEADING = '## Benchmarks';

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;
const sum = (counts: Record<string, number>) =>
  Object.values(counts).reduce((total, count) => total + count, 0);

export function renderBenchmarkSection(results: Results): string {
  const lines: string[] = [
    HEADING,
    '',
    '`pnpm bench` measures what the middleware costs, side by side with the official MCP SDK in the',
    `same run ([\`apps/bench\`](apps/bench/README.md)). Everything below comes from one ${results.mode} run,`,
    `\`apps/bench/results.json\` of ${results.startedAt.slice(0, 10)} (${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}),`,
    'rendered from it by `pnpm --filter @mcp-oauth/bench readme`: a test fails when the two disagree.',
    '',
  ];
  if (results.storm !== undefined) {
    lines.push(
      `**Refresh storm** (${results.storm[0]?.concurrency ?? 0} concurrent requests, median round):`,
      '',
    );
    lines.push(
      '| client | scenario | token requests | failed calls | prompts | drained in |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const row of results.storm) {
      lines.push(
        `| ${row.client} | ${row.scenario} | ${row.tokenRequests} | ${row.failures} | ${row.prompts} | ${ms(row.drainMs)} |`,
      );
    }
    lines.push(
      '',
      'What a storm cannot show: it runs on loopback with one authorization server that answers at once;',
      'a slow or failing one, a storm that drains more slowly than the token lives (each request still',
      'retries only once), and several processes sharing a grant are other measurements (fleet, below).',
      '',
    );
  }
  if (results.roundTrips !== undefined) {
    lines.push('**Round trips** to the first authorized call (requests the servers received):', '');
    lines.push('| client | cold | warm | warm, token expired |', '| --- | --- | --- | --- |');
    for (const row of results.roundTrips) {
      lines.push(`| ${row.client} | ${sum(row.cold)} | ${sum(row.warm)} | ${sum(row.warmExpired)} |`);
    }
    lines.push('');
  }
  if (results.overhead !== undefined) {
    lines.push(
      '**Overhead** with a cached token, adapter/bare library, each in a process of its own, measured interleaved (target ≥ 0.97):',
      '',
    );
    lines.push(
      '| library | throughput ratio (median) | spread | CPU ratio | target met |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const row of results.overhead) {
      const spread =
        row.ratioMin === undefined ? '' : `${row.ratioMin.toFixed(2)}–${(row.ratioMax ?? 0).toFixed(2)}`;
      lines.push(
        `| ${row.library} | ${row.ratio.toFixed(3)} | ${spread} | ${row.cpuRatio === undefined ? '' : row.cpuRatio.toFixed(3)} | ${row.ratio >= 0.97 ? 'yes' : 'no'} |`,
      );
    }
    lines.push('');
  }
  if (results.memory !== undefined) {
    lines.push('**Memory** per request (bytes allocated; heap growth after the run):', '');
    lines.push(
      '| library | adapter allocated | bare allocated | adapter growth | bare growth |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const row of results.memory) {
      lines.push(
        `| ${row.library} | ${Math.round(row.adapterAllocationPerRequest)} | ${Math.round(row.bareAllocationPerRequest)} | ${Math.round(row.adapterGrowthPerRequest)} | ${Math.round(row.bareGrowthPerRequest)} |`,
      );
    }
    lines.push('');
  }
  const bundle = results.bundle;
  if (bundle?.commonPaths !== undefined) {
    // The target of run.ts (10 KB); NaN (an entry not bundled) is not within it.
    const withinTarget = (entry: { gzipBytes: number }) => entry.gzipBytes <= 10 * 1024;
    const size = (entry: { gzipBytes: number; error?: string }) =>
      entry.error === undefined ? kb(entry.gzipBytes) : 'not bundled';
    lines.push(
      '**Bundle** (esbuild, browser, minified, gzip 9, from the built packages). The common path is',
      "`OAuthSession` plus the adapter's `withOAuth`, everything statically reachable (target: 10 KB):",
      '',
    );
    lines.push('| common path | min+gzip | target met |', '| --- | --- | --- |');
    for (const entry of bundle.commonPaths) {
      lines.push(`| ${entry.name} | ${size(entry)} | ${withinTarget(entry) ? 'yes' : 'no'} |`);
    }
    lines.push('', '| entry point (everything it exports) | min+gzip |', '| --- | --- |');
    for (const entry of [...(bundle.coreEntries ?? []), ...(bundle.sdk ?? [])]) {
      lines.push(`| \`${entry.name}\` | ${size(entry)} |`);
    }
    lines.push('');
    if (!bundle.commonPaths.every(withinTarget)) {
      lines.push(
        'Why the common path is over its target: it holds every check a first connection can need —',
        "discovery in the specification's order with issuer, PKCE and private-network checks, the three",
        'ways to a client identity, `state` and `iss`, refresh with rotation, the step-up bound, and the',
        'option checks that turn bad input into typed errors. With every string literal blanked out it would',
        'still be about 18 KB, so reaching 10 KB would mean dropping checks, not trimming words. DPoP,',
        '`private_key_jwt`, ID-JAG and the device grant are opt-in entry points and add nothing to it.',
        '',
      );
    }
  } else if (bundle !== undefined) {
    lines.push('**Bundle** (esbuild, browser, minified, gzip 9; target for the common path: 10 KB):', '');
    lines.push('| bundle | everything exported | what an application imports |', '| --- | --- | --- |');
    for (const row of bundle.rows ?? []) {
      lines.push(`| ${row.name} | ${kb(row.gzipBytes)} | ${kb(row.typicalGzipBytes)} |`);
    }
    for (const entry of bundle.entries ?? [])
      lines.push(`| entry \`${entry.name}\` | ${kb(entry.gzipBytes)} | |`);
    lines.push('');
  }
  if (results.code !== undefined) {
    const { adapterLines, adapters: counted, coreRootExports } = results.code;
    const rootExports =
      coreRootExports === undefined
        ? (results.code.rootExports ?? '?')
        : `${coreRootExports.total} (${coreRootExports.values} values, ${coreRootExports.types} types)`;
    if (counted?.every((each) => each.roles !== undefined)) {
      lines.push(
        "**Code**: lines of each adapter's shipped source holding code (no tests, blanks or comments), by role:",
        "the `withOAuth` shim, the `OAuthHttpClient` that carries the session's own OAuth requests, and other exports.",
        '',
        '| adapter | withOAuth shim | OAuthHttpClient | other | total |',
        '| --- | --- | --- | --- | --- |',
      );
      for (const { adapter, codeLines, roles } of counted) {
        lines.push(`| ${adapter} | ${roles?.shim} | ${roles?.httpClient} | ${roles?.other} | ${codeLines} |`);
      }
      lines.push('', `Names exported by \`@mcp-oauth/core\`'s root: ${rootExports}.`, '');
    } else {
      const adapters = (
        counted?.map((each) => [each.adapter, each.codeLines] as const) ?? Object.entries(adapterLines ?? {})
      )
        .map(([name, count]) => `${name} ${count}`)
        .join(', ');
      lines.push(
        `**Code**: adapter source lines (no tests, blanks or comments): ${adapters}; names exported by \`@mcp-oauth/core\`'s root: ${rootExports}.`,
        '',
      );
    }
  }
  if (results.fleet !== undefined) {
    lines.push('**Fleet** (several processes sharing one grant):', '');
    lines.push('| scenario | token requests | failed calls | drained in |', '| --- | --- | --- | --- |');
    for (const row of results.fleet) {
      lines.push(
        `| ${row.scenario} | ${row.tokenRequests ?? row.refreshes ?? ''} | ${row.failures ?? ''} | ${row.drainMs === undefined ? '' : ms(row.drainMs)} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The README with its Benchmarks section replaced (up to the next `## ` heading). */
export function replaceBenchmarkSection(readme: string, section: string): string {
  const start = readme.indexOf(HEADING);
  if (start === -1) throw new Error('the README has no Benchmarks section');
  const next = readme.indexOf('\n## ', start + HEADING.length);
  return `${readme.slice(0, start)}${section}${next === -1 ? '' : `\n${readme.slice(next + 1)}`}`;
}

export const README_PATH = fileURLToPath(new URL('../../../README.md', import.meta.url));
export const RESULTS_PATH = fileURLToPath(new URL('../results.json', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as Results;
  const readme = readFileSync(README_PATH, 'utf8');
  writeFileSync(README_PATH, replaceBenchmarkSection(readme, renderBenchmarkSection(results)));
}
