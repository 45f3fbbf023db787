import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'sample',
    include: ['src/**/*.test.ts'],
    testTimeout: 120000,
    hookTimeout: 240000,
    // `pnpm demo` (demo.e2e.test.ts) runs turbo, which may rewrite the packages' dist files: run
    // after every other project, and one file at a time, so that no test imports them meanwhile.
    sequence: { groupOrder: 1 },
    fileParallelism: false,
  },
});
