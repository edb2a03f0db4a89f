import { defineConfig } from 'vitest/config';

/** `npm run test:unit`: the fast tests beside the code (pure rules, parsers, Lua scripts against Redis alone). */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'commands/**/*.test.ts'],
    testTimeout: 10_000,
    hookTimeout: 10_000,
  },
});
