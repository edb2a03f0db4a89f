import { defineConfig } from 'vitest/config';

/** `npm run test:unit`: the fast tests beside the code (pure rules, parsers, Lua scripts against Redis alone). */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'commands/**/*.test.ts', 'test/layers.test.ts'],
    // A private redis-server when none answers at REDIS_URL (the Lua script tests need one).
    globalSetup: ['test/helpers/redis-global.ts'],
    testTimeout: 10_000,
    hookTimeout: 10_000,
    // The files share one module cache per worker: importing discord.js, @slack/web-api and viem once instead of in
    // every file is most of the run's time. Each file keeps its state in its own module and its own Redis prefix.
    isolate: false,
  },
});
