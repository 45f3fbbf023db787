import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'quickstart',
    include: ['src/**/*.test.ts'],
  },
});
