import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  // The README examples import the package by its name: run them against the source.
  resolve: { alias: { '@mcp-oauth/fetch': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    name: 'fetch',
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
