/**
 * The keys of one xmsg prefix (its state and its BullMQ queues, all under `<prefix>:`), for the demo, the tests
 * and the bench, which each run under a prefix of their own and delete it when they are done.
 */
import type { Redis } from 'ioredis';

/** SCAN in pages of this many: never blocks Redis the way KEYS would. */
const SCAN_COUNT = 1000;

/** Every key under `<prefix>:`. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  await eachPage(redis, prefix, async (page) => {
    keys.push(...page);
  });
  return keys;
}

/** Deletes every key under `<prefix>:`; returns how many there were. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  await eachPage(redis, prefix, async (page) => {
    deleted += await redis.del(...page);
  });
  return deleted;
}

async function eachPage(redis: Redis, prefix: string, onPage: (keys: string[]) => Promise<void>): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', SCAN_COUNT);
    cursor = next;
    if (found.length) await onPage(found);
  } while (cursor !== '0');
}
