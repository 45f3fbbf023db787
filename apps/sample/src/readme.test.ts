/**
 * The READMEs show what the sample really prints and code that really compiles: the root README's
 * snippets are typechecked as src/readme/*.example.ts, and both READMEs show the table's header.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADAPTER_NAMES } from './adapters/index.js';
import { renderTable } from './table.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const rootReadme = read('../../../README.md');
const sampleReadme = read('../README.md');

describe('root README, "Use it in your stack"', () => {
  const section = rootReadme.slice(
    rootReadme.indexOf('## Use it in your stack'),
    rootReadme.indexOf('## Packages'),
  );
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');

  it('has the shared setup, then one snippet per adapter of at most 10 lines', () => {
    expect(blocks).toHaveLength(1 + ADAPTER_NAMES.length);
    for (const block of blocks.slice(1)) expect(block.trimEnd().split('\n').length).toBeLessThanOrEqual(10);
  });

  it.each(ADAPTER_NAMES.map((adapter, index) => [adapter, index + 1] as const))(
    'the %s snippet and the setup appear verbatim in readme/%s.example.ts',
    (adapter, index) => {
      const example = read(`./readme/${adapter}.example.ts`);
      expect(example).toContain(blocks[0]);
      expect(example).toContain(blocks[index]);
      expect(blocks[index]).toContain(`@mcp-oauth/${adapter}`);
    },
  );
});

it('both READMEs show the table header the demo prints', () => {
  const [header] = renderTable([]);
  expect(rootReadme).toContain(header);
  expect(sampleReadme).toContain(header);
});
