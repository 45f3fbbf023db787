import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'conformance-client',
    include: ['src/**/*.test.ts'],
    // A conformance scenario: the suite's servers and the client, each under Node 22.
    testTimeout: 60_000,
  },
});
