import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cli',
    include: ['src/**/*.test.ts'],
    // The end-to-end tests spawn the built CLI (`dist/cli.js`) against the demo server, and wait
    // for real token expiry and device polling intervals.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
