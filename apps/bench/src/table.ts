/** Renders results as plain-text tables: ratios and counts against their targets first, absolute numbers after. */

import type { EntrySize } from './bundle-size.js';
import { CLIENT_LABELS } from './clients.js';
import { ENDPOINT_LABELS, ENDPOINTS, type EndpointCounts, totalOf } from './endpoints.js';
import { OVERHEAD_BLOCK } from './overhead.js';
import type { Results } from './results.js';

type Cell = string | number;

/** Columns padded to their widest cell; the first `textColumns` left-aligned, the others (numbers) right-aligned. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  textColumns = 1,
): string {
  const text = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, column) => Math.max(...text.map((row) => row[column]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        column < textColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(text[0]!), rule, ...text.slice(1).map(line)].join('\n');
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const integer = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const kilobytes = (bytes: number) => (bytes / 1024).toFixed(1);
const yesNo = (value: boolean) => (value ? 'yes' : 'NO');

function sameCounts(a: EndpointCounts, b: EndpointCounts): boolean {
  return ENDPOINTS.every((name) => a[name] === b[name]);
}

export function renderResults(results: Results): string {
  const { machine, targets, config } = results;
  const out: string[] = [];
  out.push(
    `mcp-oauth benchmarks — ${results.mode} run, ${results.startedAt}, ${(results.durationMs / 1000).toFixed(0)} s`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`,
  );

  if (results.overhead !== undefined) {
    const { processPairs, requestsPerProcess } = config.overhead;
    out.push(
      '',
      `1. Per-request overhead, valid cached token (one request in flight; each variant in a process of its own; ${processPairs} process pairs per library, ${requestsPerProcess} timed requests each, in blocks of ${OVERHEAD_BLOCK} interleaved A B B A)`,
      `   ratio = adapter req/s ÷ bare req/s, median over neighbouring block pairs (target ≥ ${targets.overheadRatio}; min–max: the lowest and highest process pair); CPU ratio = bare CPU ÷ adapter CPU, each variant's process`,
      formatTable(
        [
          'library',
          'ratio',
          `≥ ${targets.overheadRatio}`,
          'min–max',
          'CPU ratio',
          'adapter req/s',
          'bare req/s',
          'adapter CPU µs/req',
          'bare CPU µs/req',
        ],
        results.overhead.map((row) => [
          row.library,
          fixed(row.ratio, 3),
          yesNo(row.ratio >= targets.overheadRatio),
          `${fixed(row.ratioMin, 2)}–${fixed(row.ratioMax, 2)}`,
          fixed(row.cpuRatio, 3),
          integer(row.adapterRps),
          integer(row.bareRps),
          integer(row.adapterCpuMicros),
          integer(row.bareCpuMicros),
        ]),
      ),
    );
  }

  if (results.storm !== undefined) {
    const { concurrency, rounds } = config.storm;
    out.push(
      '',
      `2. Refresh storm: ${concurrency} concurrent calls on an expired / revoked token (median of ${rounds} rounds; targets: 1 token request, 0 failures)`,
      formatTable(
        [
          'scenario',
          'client',
          'token req',
          'failures',
          'user prompts',
          'renews after',
          'drain ms',
          'MCP req',
          'PRM+AS req',
        ],
        results.storm.map((row) => [
          row.scenario,
          CLIENT_LABELS[row.client],
          row.tokenRequests,
          row.failures,
          row.prompts,
          yesNo(row.renewsAfterwards),
          integer(row.drainMs),
          row.mcpRequests,
          row.discoveryRequests,
        ]),
        2,
      ),
    );
  }

  if (results.roundTrips !== undefined) {
    const minimum = targets.roundTripMinimum;
    const rows: Cell[][] = [];
    for (const row of results.roundTrips) {
      for (const phase of ['cold', 'warm', 'warmExpired'] as const) {
        const counts = row[phase];
        rows.push([
          CLIENT_LABELS[row.client],
          phase === 'warmExpired' ? 'warm, expired' : phase,
          ...ENDPOINTS.map((name) => counts[name]),
          totalOf(counts),
          sameCounts(counts, minimum[phase]) ? 'yes' : 'NO',
        ]);
      }
    }
    out.push(
      '',
      '3. Round trips to the first authorized call, requests per endpoint (warm = new process over the persisted store)',
      `   minimum: cold ${totalOf(minimum.cold)} (1 unauthorized MCP + PRM + AS metadata + registration + authorize + token + MCP), warm ${totalOf(minimum.warm)} (MCP), warm with an expired token ${totalOf(minimum.warmExpired)} (token + MCP)`,
      formatTable(
        ['client', 'phase', ...ENDPOINTS.map((name) => ENDPOINT_LABELS[name]), 'total', 'minimum'],
        rows,
        2,
      ),
    );
  }

  if (results.bundle !== undefined) {
    const { coreEntries, commonPaths, sdk, commonPathContributors, commonPathSourceBundle } = results.bundle;
    const target = targets.commonPathGzipBytes;
    const size = (entry: EntrySize) => (entry.error === undefined ? kilobytes(entry.gzipBytes) : 'failed');
    const failures = [...coreEntries, ...commonPaths, ...sdk].filter((entry) => entry.error !== undefined);
    out.push(
      '',
      '4. Bundle size: esbuild, minified ESM (browser, es2022), gzip -9, from the built packages; HTTP libraries external',
      `   common path = OAuthSession + the adapter's withOAuth, everything statically reachable (target ≤ ${kilobytes(target)} KB gz)`,
      formatTable(
        ['common path', 'KB gz', 'KB minified', `≤ ${kilobytes(target)} KB`],
        commonPaths.map((entry) => [
          entry.name,
          size(entry),
          kilobytes(entry.minifiedBytes),
          entry.error === undefined ? yesNo(entry.gzipBytes <= target) : '–',
        ]),
      ),
      '',
      formatTable(
        ['entry (everything it exports)', 'KB gz', 'KB minified'],
        [...coreEntries, ...sdk].map((entry) => [entry.name, size(entry), kilobytes(entry.minifiedBytes)]),
      ),
      ...failures.map((entry) => `   ${entry.name} could not be bundled: ${entry.error}`),
      '',
      `   modules of the fetch common path (bundled from src: ${kilobytes(commonPathSourceBundle.minifiedBytes)} KB minified, ${kilobytes(commonPathSourceBundle.gzipBytes)} KB gz; ≈ gz = share × total)`,
      formatTable(
        ['module', 'KB minified', 'share', '≈ KB gz'],
        commonPathContributors
          .slice(0, 15)
          .map((each) => [
            each.module,
            kilobytes(each.bytes),
            `${(each.share * 100).toFixed(1)} %`,
            kilobytes(each.share * commonPathSourceBundle.gzipBytes),
          ]),
      ),
    );
  }

  if (results.memory !== undefined) {
    const requests = results.memory[0]?.requests ?? 0;
    out.push(
      '',
      `5. Memory: ${integer(requests)} requests through each adapter and as many bare, heap after forced GC (--expose-gc, own process)`,
      '   growth = retained heap per request (target: none beyond the bare library’s own); allocation = JS heap allocated per request (GC-free windows)',
      formatTable(
        [
          'library',
          'adapter growth B/req',
          'bare growth B/req',
          'heap after MB',
          'adapter alloc KB/req',
          'bare alloc KB/req',
        ],
        results.memory.map((row) => [
          row.library,
          fixed(row.adapterGrowthPerRequest, 1),
          fixed(row.bareGrowthPerRequest, 1),
          fixed(row.heapAfterBytes / 2 ** 20, 1),
          row.adapterAllocationPerRequest === null ? '–' : kilobytes(row.adapterAllocationPerRequest),
          row.bareAllocationPerRequest === null ? '–' : kilobytes(row.bareAllocationPerRequest),
        ]),
      ),
    );
  }
  if (results.fleet !== undefined) {
    const { processes, callsPerProcess, rounds } = config.fleet;
    out.push(
      '',
      `6. Fleet: ${processes} processes × ${callsPerProcess} concurrent calls on an expired token, one grant shared through a store (oidc-provider, rotating refresh tokens; median of ${rounds} rounds; targets: 1 token request, 0 failures)`,
      '   drain = from "go" to the last process\'s last answer; "holder killed" includes waiting out its 2 s lease',
      formatTable(
        ['store', 'token req', 'failures', 'killed', 'drain ms', 'calls/s'],
        results.fleet.map((row) => {
          const survivors = processes - (row.rounds[0]?.killed ?? 0);
          return [
            row.scenario,
            row.tokenRequests,
            row.failures,
            row.rounds[0]?.killed ?? 0,
            integer(row.drainMs),
            integer((survivors * callsPerProcess) / (row.drainMs / 1000)),
          ];
        }),
      ),
    );
  }
  if (results.code !== undefined) {
    const { adapters, coreRootExports } = results.code;
    out.push(
      '',
      "7. Code size: lines of each adapter's shipped source (the files src/index.ts reaches) holding code, not blank or comment-only",
      formatTable(
        ['adapter', 'code lines', 'withOAuth shim', 'OAuthHttpClient', 'other', 'files'],
        adapters.map((each) => [
          each.adapter,
          each.codeLines,
          each.roles.shim,
          each.roles.httpClient,
          each.roles.other,
          each.files.map(({ file, codeLines }) => `${file.replace(/^src\//, '')} ${codeLines}`).join(', '),
        ]),
      ),
      `   @mcp-oauth/core root exports: ${coreRootExports.total} names (${coreRootExports.values} values, ${coreRootExports.types} types only)`,
    );
  }
  return out.join('\n');
}
