import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { deleteKeysUnder } from '../../src/devnet/redis-keys.js';
import { type RedisServer, redisAnswers, redisServerInstalled, startRedisServer } from '../../src/devnet/redis-server.js';

export const PREFERRED_HTTP_PORT = 3000;

/** A prefix of its own per run, so demos never see each other's (or a real deployment's) state. */
export function demoPrefix(): string {
  return `xmsg-demo-${randomBytes(4).toString('hex')}`;
}

/**
 * 3000 when it is free, else 0 (any free port). Checked up front because startApp opens Redis connections and
 * starts its workers before it listens, so a failed listen cannot simply be retried on another port.
 */
export async function choosePort(preferred = PREFERRED_HTTP_PORT): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(preferred, '0.0.0.0', () => probe.close(() => resolve(preferred)));
  });
}

/** Where to get a Redis, for the one line the demo prints when it has none. */
const HOW_TO_GET_REDIS =
  'install one (Debian/Ubuntu: sudo apt install redis-server; macOS: brew install redis) or run one (docker run -p 6379:6379 redis:7), ' +
  'or set REDIS_URL';

/** What the demo tells a person and stops on: one line, no stack trace. */
export class DemoSetupError extends Error {}

export interface DemoRedis {
  url: string;
  /** The private redis-server the demo started because nothing answered at REDIS_URL; stopped on the way out. */
  server?: RedisServer;
}

/**
 * The Redis the demo runs on: the one at `url` when it answers; otherwise, when redis-server is installed, a private
 * one on a free loopback port with nothing on disk (the demo's state lives as long as the demo). Without either, a
 * DemoSetupError saying how to get one.
 */
export async function demoRedis(url: string, note: (line: string) => void): Promise<DemoRedis> {
  if (await redisAnswers(url, 3000)) return { url };
  if (!redisServerInstalled())
    throw new DemoSetupError(`no Redis answers at ${url} and redis-server is not installed: ${HOW_TO_GET_REDIS}`);
  const server = await startRedisServer();
  note(`no Redis answers at ${url}: started a private redis-server at ${server.url} (nothing on disk; stopped on exit)`);
  return { url: server.url, server };
}

/**
 * Deletes every key under the prefix (xmsg's state and its BullMQ queues); returns how many. Gives up after a few
 * seconds rather than retrying a Redis that has gone, and logs nothing itself (the caller says what happened).
 */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
