import { defineConfig } from 'vitest/config';

// Two cores on the reference machine: run files in parallel but keep the pool small, and give
// integration tests (real Redis, protocol peers, child processes) room to finish.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
