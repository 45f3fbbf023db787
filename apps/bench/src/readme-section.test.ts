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
