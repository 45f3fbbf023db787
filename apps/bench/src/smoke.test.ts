// The smoke run: every measurement with tiny counts, so the benchmark code cannot rot. It checks the
// shape of the results and the facts that are counts, not timings (none of those is asserted).
import { beforeAll, describe, expect, it } from 'vitest';
import { CORE_ENTRIES } from './bundle-size.js';
import { CLIENT_KINDS, isOurs } from './clients.js';
import { ADAPTER_NAMES } from './code-size.js';
import { SMOKE } from './config.js';
import { FLEET_SCENARIOS } from './fleet.js';
import { LIBRARY_NAMES } from './libraries.js';
import type { Results } from './results.js';
import { COLD_MINIMUM, WARM_EXPIRED_MINIMUM, WARM_MINIMUM } from './round-trips.js';
import { runBenchmarks } from './run.js';
import { SCENARIOS } from './storm.js';
import { renderResults } from './table.js';

const finite = expect.any(Number);

describe('pnpm bench --smoke', () => {
  let results: Results;

  beforeAll(async () => {
    results = await runBenchmarks(SMOKE);
  }, 240_000);

  it('describes the machine and the run', () => {
    expect(results).toMatchObject({ schema: 1, mode: 'smoke', config: SMOKE });
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
  });

  it('measures the overhead of every adapter next to its bare library', () => {
    expect(results.overhead?.map((row) => row.library)).toEqual([...LIBRARY_NAMES]);
    for (const row of results.overhead ?? []) {
      for (const value of [row.ratio, row.cpuRatio, row.adapterRps, row.bareRps]) {
        expect(Number.isFinite(value) && value > 0).toBe(true);
      }
    }
  });

  it('renews once for a whole storm, with no failure and no prompt, in every mcp-oauth client', () => {
    const rows = results.storm ?? [];
    expect(rows).toHaveLength(SCENARIOS.length * CLIENT_KINDS.length);
    for (const row of rows.filter((each) => isOurs(each.client))) {
      expect({ client: row.client, scenario: row.scenario, ...row.rounds[0] }).toMatchObject({
        tokenRequests: 1,
        failures: 0,
        succeeded: SMOKE.storm.concurrency,
        prompts: 0,
        renewsAfterwards: true,
        // An expired token is renewed before use: no request goes out with it.
        unauthorized: row.scenario === 'expired' ? 0 : SMOKE.storm.concurrency,
      });
    }
    for (const row of rows.filter((each) => !isOurs(each.client))) {
      expect(row).toMatchObject({ tokenRequests: finite, failures: finite, drainMs: finite });
    }
  });

  it('reaches the first authorized call in the protocol minimum, cold and warm, in every mcp-oauth client', () => {
    const rows = results.roundTrips ?? [];
    expect(rows.map((row) => row.client)).toEqual([...CLIENT_KINDS]);
    for (const row of rows.filter((each) => isOurs(each.client))) {
      expect({ client: row.client, cold: row.cold, warm: row.warm, warmExpired: row.warmExpired }).toEqual({
        client: row.client,
        cold: COLD_MINIMUM,
        warm: WARM_MINIMUM,
        warmExpired: WARM_EXPIRED_MINIMUM,
      });
    }
    for (const row of rows) expect(row.warmError).toBeUndefined();
  });

  it('sizes every core entry point, the common path of each adapter, and the SDK auth entry points', () => {
    const bundle = results.bundle;
    expect(bundle?.coreEntries.map((entry) => entry.name)).toEqual(
      CORE_ENTRIES.map((subpath) => `@mcp-oauth/core${subpath}`),
    );
    expect(bundle?.commonPaths.map((entry) => entry.adapter)).toEqual([...ADAPTER_NAMES]);
    expect(bundle?.sdk).toHaveLength(4);
    for (const entry of [
      ...(bundle?.coreEntries ?? []),
      ...(bundle?.commonPaths ?? []),
      ...(bundle?.sdk ?? []),
    ]) {
      expect({ name: entry.name, error: entry.error }).toEqual({ name: entry.name, error: undefined });
      expect(entry.gzipBytes).toBeGreaterThan(0);
      expect(entry.gzipBytes).toBeLessThan(entry.minifiedBytes);
    }
    // The opt-in modules stay out of the common path.
    const modules = bundle?.commonPathContributors.map((each) => each.module) ?? [];
    expect(modules).toContain('core/src/session/session.ts');
    expect(modules).toContain('fetch/src/with-oauth.ts');
    for (const optIn of [
      'core/src/dpop.ts',
      'core/src/jwt.ts',
      'core/src/signing-key.ts',
      'core/src/der.ts',
      'core/src/enterprise.ts',
      'core/src/device.ts',
      'core/src/device-poll.ts',
    ]) {
      expect(modules).not.toContain(optIn);
    }
  });

  it('counts the code lines of each adapter and the names core exports at its root', () => {
    const code = results.code;
    expect(code?.adapters.map((each) => each.adapter)).toEqual([...ADAPTER_NAMES]);
    for (const each of code?.adapters ?? []) {
      const files = each.files.map(({ file }) => file);
      expect(files).toContain('src/index.ts');
      expect(files.some((file) => file.endsWith('.test.ts'))).toBe(false);
      expect(each.codeLines).toBeGreaterThan(10);
    }
    expect(code?.coreRootExports.names).toContain('OAuthSession');
    expect(code?.coreRootExports.total).toBe(code?.coreRootExports.names.length);
  });

  it('reads the heap of every adapter after forced GC', () => {
    expect(results.memory?.map((row) => row.library)).toEqual([...LIBRARY_NAMES]);
    for (const row of results.memory ?? []) {
      expect(row).toMatchObject({
        requests: SMOKE.memory.requests,
        adapterGrowthPerRequest: finite,
        bareGrowthPerRequest: finite,
        heapAfterBytes: finite,
      });
    }
  });

  it('renews once for a whole fleet sharing a store, with no failure, in every scenario', () => {
    const rows = results.fleet ?? [];
    expect(rows.map((row) => row.scenario)).toEqual([...FLEET_SCENARIOS]);
    const { processes, callsPerProcess } = SMOKE.fleet;
    for (const row of rows) {
      const killed = row.scenario === 'redis, holder killed' ? 1 : 0;
      expect({ scenario: row.scenario, ...row.rounds[0] }).toMatchObject({
        scenario: row.scenario,
        tokenResponses: [200],
        failed: 0,
        killed,
        succeeded: (processes - killed) * callsPerProcess,
        drainMs: finite,
      });
    }
  });

  it('prints every section of the table', () => {
    const table = renderResults(results);
    for (const heading of [
      '1. Per-request',
      '2. Refresh storm',
      '3. Round trips',
      '4. Bundle size',
      '5. Memory',
      '6. Fleet',
      '7. Code size',
    ]) {
      expect(table).toContain(heading);
    }
  });
});
