/** Redis memory of one xmsg prefix: MEMORY USAGE of every key under it (exact, SAMPLES 0), by kind of key. */
import { Redis } from 'ioredis';
import { keysUnder } from '../src/devnet/redis-keys.js';
import { REDIS_URL } from '../test/helpers/xmsg.js';

export interface PrefixMemory {
  keys: number;
  bytes: number;
  /** Bytes by the first part of the key after the prefix (m, h, pending, bysource, check, ...). */
  byKind: Map<string, { keys: number; bytes: number }>;
}

export async function prefixMemory(prefix: string): Promise<PrefixMemory> {
  const redis = new Redis(REDIS_URL);
  try {
    const found = await keysUnder(redis, prefix);

    const byKind = new Map<string, { keys: number; bytes: number }>();
    let bytes = 0;
    for (let i = 0; i < found.length; i += 2000) {
      const batch = found.slice(i, i + 2000);
      const pipeline = redis.pipeline();
      for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', 0);
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([err, n], j) => {
        if (err || typeof n !== 'number') return; // deleted since the scan
        const kind = batch[j]!.slice(prefix.length + 1).split(':')[0]!;
        const k = byKind.get(kind) ?? { keys: 0, bytes: 0 };
        k.keys++;
        k.bytes += n;
        byKind.set(kind, k);
        bytes += n;
      });
    }
    return { keys: found.length, bytes, byKind };
  } finally {
    redis.disconnect();
  }
}

export function describeKinds(m: PrefixMemory, perMessage: number): string {
  return [...m.byKind.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, 6)
    .map(([kind, k]) => `${kind} ${Math.round(k.bytes / perMessage)} B (${k.keys} keys)`)
    .join(', ');
}

/** Redis's `used_memory` (INFO memory): the whole server's, so deltas over a run count the queues and indexes too. */
export async function usedMemory(): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
  } finally {
    redis.disconnect();
  }
}
