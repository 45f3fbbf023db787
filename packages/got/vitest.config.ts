import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  // readme.example.ts imports the package by name, as the README does: run it on the sources.
  resolve: { alias: { '@mcp-oauth/got': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    name: 'got',
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
