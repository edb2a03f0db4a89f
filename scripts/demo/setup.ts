import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

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

/** Fails fast with one clear line, instead of xmsg retrying a Redis that is not there. */
export async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis is not reachable at ${url} (${err instanceof Error ? err.message : String(err)}); start one or set REDIS_URL`);
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under the prefix (xmsg's state and its BullMQ queues); returns how many. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) deleted += await redis.del(...found);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
