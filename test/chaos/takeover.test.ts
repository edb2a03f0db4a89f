/**
 * Takeover after a crash: a replica with a stable id (XMSG_REPLICA_ID) killed -9 and started again takes its own
 * earlier run's chain leases over at once, instead of waiting up to 15 s for them to expire, and catches up.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { latestBlock, mine } from '../../src/devnet/devnet.js';
import { useChaosWorld, waitForFollowing } from './lib.js';

const A = 975;
const BLOCKS_DOWN = 300;
/** The follower lease's time to live (src/watcher/follower.ts): what a restart would wait without the takeover. */
const LEASE_TTL_MS = 15_000;

const world = useChaosWorld('chaos-takeover', [A]);

async function cursorAt(redis: Redis): Promise<bigint> {
  return BigInt((await redis.hget(`${world.prefix}:cursor:${A}`, 'number')) ?? '-1');
}

describe('chaos: takeover after a crash', () => {
  it('a replica killed -9 and started again follows its chains again at once, not after its old lease expires', async () => {
    const [replica] = await world.startReplicas(1, 'replica', { XMSG_REPLICA_ID: 'takeover-1', XMSG_MAX_BLOCK_RANGE: '1000' });
    await waitForFollowing(world);
    const redis = new Redis(world.redisUrl);
    try {
      const chain = world.devnet.chain(A);
      const leaseKey = `${world.prefix}:lease:${A}`;
      const firstOwner = await redis.get(leaseKey);
      expect(firstOwner).toMatch(/\/takeover-1\|/);

      await replica!.kill();
      await mine(chain, BLOCKS_DOWN);
      const head = (await latestBlock(chain)).number;
      expect(await redis.pttl(leaseKey)).toBeGreaterThan(LEASE_TTL_MS / 2);

      await replica!.start();
      const started = performance.now();
      await expect.poll(() => cursorAt(redis), { timeout: LEASE_TTL_MS, interval: 50 }).toBeGreaterThanOrEqual(head);
      const caughtUpMs = performance.now() - started;
      const owner = await redis.get(leaseKey);
      expect(owner).not.toBe(firstOwner);
      expect(owner?.split('|')[0]).toBe(firstOwner?.split('|')[0]);
      // Well within the old lease's remaining life: it was taken over, not waited for.
      expect(caughtUpMs).toBeLessThan(3_000);
    } finally {
      redis.disconnect();
    }
  });
});
