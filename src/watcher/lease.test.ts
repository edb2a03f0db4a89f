import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { advanceCursorScript, rewindCursorScript } from './follower.js';
import { Lease } from './lease.js';

// The lease scripts and the fenced cursor writes (src/watcher/lua/) against Redis alone.

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `xmsgtest-lease-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await redis.quit();
});

describe('chain lease', () => {
  it('is taken by one owner, renewed only by it, and released only by it', async () => {
    const key = `${prefix}:lease:1`;
    const mine = new Lease(redis, key, 'replica-a', 5000);
    const theirs = new Lease(redis, key, 'replica-b', 5000);
    expect(await mine.acquireOrRenew()).toBe(true);
    expect(await theirs.acquireOrRenew()).toBe(false);

    await redis.pexpire(key, 1000);
    expect(await mine.acquireOrRenew()).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(4000);

    await theirs.release();
    expect(await redis.get(key)).toBe('replica-a');
    await mine.release();
    expect(await redis.exists(key)).toBe(0);
    expect(await theirs.acquireOrRenew()).toBe(true);
  });
});

describe('a replica started again after a crash', () => {
  it("takes over its earlier run's lease at once, and only that replica's, only on its first attempt", async () => {
    const key = `${prefix}:lease:3`;
    const killed = new Lease(redis, key, 'host-a/r1|run1', 15_000, 'host-a/r1');
    expect(await killed.acquireOrRenew()).toBe(true);

    // Another replica waits for the lease to expire, as before.
    expect(await new Lease(redis, key, 'host-b/r2|run1', 15_000, 'host-b/r2').acquireOrRenew()).toBe(false);
    expect(await new Lease(redis, key, 'host-a/r10|run1', 15_000, 'host-a/r10').acquireOrRenew()).toBe(false);
    // The same replica started again does not.
    const restarted = new Lease(redis, key, 'host-a/r1|run2', 15_000, 'host-a/r1');
    expect(await restarted.acquireOrRenew()).toBe(true);
    expect(await redis.get(key)).toBe('host-a/r1|run2');
    expect(await redis.pttl(key)).toBeGreaterThan(14_000);

    // Had the first run been alive after all (two processes with one replica id), it does not take the lease back:
    // one of them holds it, and its fence refuses the other's cursor writes.
    expect(await killed.acquireOrRenew()).toBe(false);
    expect(await restarted.acquireOrRenew()).toBe(true);
    const third = new Lease(redis, key, 'host-a/r1|run3', 15_000, 'host-a/r1');
    expect(await third.acquireOrRenew()).toBe(true);
    expect(await restarted.acquireOrRenew()).toBe(false);
    expect(await third.acquireOrRenew()).toBe(true);
  });
});

describe('fenced cursor writes', () => {
  const keys = { lease: `${prefix}:lease:2`, cursor: `${prefix}:cursor:2`, recentBlocks: `${prefix}:blocks:2` };
  const lease = new Lease(redis, keys.lease, 'replica-a', 5000);

  it("advance and rewind the cursor while the lease is this owner's", async () => {
    await lease.acquireOrRenew();
    const blocks = ['10', '0xa', '11', '0xb', '12', '0xc'];
    const advanced = await advanceCursorScript.run(redis, { ...keys, owner: 'replica-a', number: 12, hash: '0xc', trimBelow: 11, blocks });
    expect(advanced).toBe('written');
    expect(await redis.hgetall(keys.cursor)).toEqual({ number: '12', hash: '0xc' });
    expect(await redis.zrange(keys.recentBlocks, '0', '-1')).toEqual(['0xb', '0xc']);

    expect(await rewindCursorScript.run(redis, { ...keys, owner: 'replica-a', number: 11, hash: '0xb' })).toBe('written');
    expect(await redis.hgetall(keys.cursor)).toEqual({ number: '11', hash: '0xb' });
    expect(await redis.zrange(keys.recentBlocks, '0', '-1')).toEqual(['0xb']);
  });

  it('are refused, writing nothing, without the lease', async () => {
    await redis.set(keys.lease, 'replica-b');
    const before = await redis.hgetall(keys.cursor);
    const blocks = ['13', '0xd'];
    expect(await advanceCursorScript.run(redis, { ...keys, owner: 'replica-a', number: 13, hash: '0xd', trimBelow: 0, blocks })).toBe(
      'not-lease-holder',
    );
    expect(await rewindCursorScript.run(redis, { ...keys, owner: 'replica-a', number: 5, hash: '0x5' })).toBe('not-lease-holder');
    await redis.del(keys.lease);
    expect(await rewindCursorScript.run(redis, { ...keys, owner: 'replica-a', number: 5, hash: '0x5' })).toBe('not-lease-holder');
    expect(await redis.hgetall(keys.cursor)).toEqual(before);
    expect(await redis.zrange(keys.recentBlocks, '0', '-1')).toEqual(['0xb']);
  });
});
