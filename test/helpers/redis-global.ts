/**
 * vitest globalSetup: the Redis the tests use. When nothing answers at REDIS_URL (default 127.0.0.1:6379), a private
 * redis-server on a free loopback port with nothing on disk, for the whole run, stopped at its end. Its URL reaches
 * every test as REDIS_URL: set here, in vitest's main process, before any worker starts (workers inherit it).
 */
import { redisAnswers, redisServerInstalled, startRedisServer } from '../../src/devnet/redis-server.js';

export default async function redisForTheTests(): Promise<(() => Promise<void>) | undefined> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) return undefined;
  if (!redisServerInstalled()) {
    throw new Error(
      `no Redis answers at ${url} and redis-server is not installed: install one (Debian/Ubuntu: sudo apt install redis-server; ` +
        'macOS: brew install redis) or run one (docker run -p 6379:6379 redis:7), or set REDIS_URL',
    );
  }
  const server = await startRedisServer();
  console.info(`tests: no Redis answers at ${url}; using a private redis-server at ${server.url}`);
  process.env.REDIS_URL = server.url;
  return () => server.stop();
}
