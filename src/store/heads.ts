import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** A chain's heads as its follower last read them, and the follower's cursor: block numbers in decimal. */
export interface ChainHeads {
  latest?: string;
  safe?: string;
  finalized?: string;
  /** The last block the follower finished. */
  cursor?: string;
}

/** What the chain's follower recorded (`…:heads:<chain>`, `…:cursor:<chain>`); nothing before its first step. */
export async function readHeads(redis: Redis, keys: Pick<Keys, 'heads' | 'cursor'>, chainId: number): Promise<ChainHeads> {
  const [heads, cursor] = await Promise.all([redis.hgetall(keys.heads(chainId)), redis.hget(keys.cursor(chainId), 'number')]);
  return { latest: heads.latest, safe: heads.safe, finalized: heads.finalized, cursor: cursor ?? undefined };
}
