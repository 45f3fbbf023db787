import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  README_PATH,
  RESULTS_PATH,
  renderBenchmarkSection,
  replaceBenchmarkSection,
} from './readme-section.js';

it("the README's Benchmarks section is exactly what the committed results.json says", () => {
  const readme = readFileSync(README_PATH, 'utf8');
  const results = JSON.parse(readFileSync(RESULTS_PATH, 'utf8'));
  expect(replaceBenchmarkSection(readme, renderBenchmarkSection(results))).toBe(readme);
});

it('renders only what the run measured', () => {
  const section = renderBenchmarkSection({
    startedAt: '2026-12-03T10:00:00.000Z',
    mode: 'full',
    machine: { cpu: 'X', cores: 2, node: 'v20' },
    overhead: [{ library: 'ky', ratio: 0.9, cpuRatio: 0.8 }],
  });
  expect(section).toContain('| ky | 0.900 |  | 0.800 | no |');
  expect(section).not.toContain('Refresh storm');
});

it('renders the common path of each adapter, every entry point, and the code counts', () => {
  const section = renderBenchmarkSection({
    startedAt: '2026-12-03T10:00:00.000Z',
    mode: 'full',
    machine: { cpu: 'X', cores: 2, node: 'v20' },
    bundle: {
      commonPaths: [
        { name: 'core + fetch', gzipBytes: 9 * 1024 },
        { name: 'core + ky', gzipBytes: Number.NaN, error: 'Could not resolve "@mcp-oauth/ky"' },
      ],
      coreEntries: [{ name: '@mcp-oauth/core/dpop', gzipBytes: 2048 }],
      sdk: [{ name: 'SDK v1 client/auth.js, auth', gzipBytes: 38_000 }],
    },
    code: {
      adapters: [{ adapter: 'fetch', codeLines: 99 }],
      coreRootExports: { total: 39, values: 8, types: 31 },
    },
  });
  expect(section).toContain('| core + fetch | 9.0 KB | yes |');
  expect(section).toContain('| core + ky | not bundled | no |');
  expect(section).toContain('| `@mcp-oauth/core/dpop` | 2.0 KB |');
  expect(section).toContain('fetch 99');
  expect(section).toContain('39 (8 values, 31 types)');
});

it('renders the code counts by role when the run split them', () => {
  const section = renderBenchmarkSection({
    startedAt: '2026-12-03T10:00:00.000Z',
    mode: 'full',
    machine: { cpu: 'X', cores: 2, node: 'v20' },
    code: {
      adapters: [{ adapter: 'got', codeLines: 190, roles: { shim: 140, httpClient: 48, other: 2 } }],
      coreRootExports: { total: 39, values: 8, types: 31 },
    },
  });
  expect(section).toContain('| got | 140 | 48 | 2 | 190 |');
  expect(section).toContain('39 (8 values, 31 types)');
});
