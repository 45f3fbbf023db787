import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  // The README's example imports the package by name, as the README does: run it on the sources.
  resolve: { alias: { '@mcp-oauth/node': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    name: 'node',
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
