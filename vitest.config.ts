import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Unit tests sit beside the code they test (src/**, commands/**); end-to-end and chaos tests live in test/.
    include: ['src/**/*.test.ts', 'commands/**/*.test.ts', 'test/**/*.test.ts'],
    // A private redis-server when none answers at REDIS_URL; it sets REDIS_URL for every test.
    globalSetup: ['test/helpers/redis-global.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own anvil chains and Redis prefix; two workers keep a 2-core machine busy without starving anvil.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
