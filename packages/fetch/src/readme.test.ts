import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// The README's examples are typechecked as src/readme.example.ts and src/readme.sdk-v2.example.ts
// (tsc -p tsconfig.test.json; the second also runs in auth-provider.integration.test.ts); this
// keeps them and the README from drifting apart.
it('every ts block of README.md appears verbatim in one of the example files', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const examples = ['./readme.example.ts', './readme.sdk-v2.example.ts'].map((path) =>
    readFileSync(new URL(path, import.meta.url), 'utf8'),
  );
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks.length).toBeGreaterThan(0);
  for (const block of blocks)
    expect(
      examples.some((example) => example.includes(block)),
      block,
    ).toBe(true);
  // The authProvider blocks are the runnable example, in the README's order.
  const sdkBlocks = blocks.filter((block) => block.includes('@modelcontextprotocol/client'));
  expect(sdkBlocks).toHaveLength(2);
  expect(examples[1]).toContain(sdkBlocks.join('\n'));
});
