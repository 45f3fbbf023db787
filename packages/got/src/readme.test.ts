import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// The README's examples are typechecked as src/readme.example.ts (tsc -p tsconfig.test.json);
// this keeps the two from drifting apart.
it('every ts block of README.md appears verbatim in readme.example.ts', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('./readme.example.ts', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks.length).toBeGreaterThan(0);
  for (const block of blocks) expect(example).toContain(block);
});
