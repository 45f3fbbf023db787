import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

it('README.md shows the example that readme.example.ts typechecks', () => {
  const shown = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
  const checked = read('./readme.example.ts').split('\n// ---- end of the README example')[0];
  expect(shown).toBeDefined();
  expect(checked?.endsWith(shown ?? '\u0000')).toBe(true);
  expect(shown?.trim().split('\n').length).toBeLessThanOrEqual(15);
});
