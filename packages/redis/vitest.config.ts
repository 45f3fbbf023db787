import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  // The README example imports the package by name: run it against this source, not a build.
  resolve: { alias: { '@mcp-oauth/redis': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    name: 'redis',
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
