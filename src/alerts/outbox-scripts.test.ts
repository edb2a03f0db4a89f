import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScripts } from '../store/scripts.js';
import { merge } from './notifier.js';
import { queueChatUpdate, takeChatSlot } from './outbox-scripts.js';

// The chat outbox's scripts against Redis alone, and how it merges follow-ups.

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
loadScripts(redis);
const prefix = `xmsgtest-outbox-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await redis.quit();
});

describe('takeChatSlot', () => {
  it('spaces calls by the interval across callers, and lets a call through at once when the platform was idle', async () => {
    const slot = `${prefix}:slot:post`;
    const waits = await Promise.all(Array.from({ length: 4 }, () => takeChatSlot.run(redis, { slot, intervalMs: 200 })));
    // Each waits one interval more than the one before (less the few ms between their arrivals).
    const sorted = waits.sort((a, b) => a - b);
    expect(sorted[0]).toBe(0);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]).toBeGreaterThan(i * 200 - 100);
      expect(sorted[i]).toBeLessThanOrEqual(i * 200);
    }
    // Nothing taken for a while: the next call goes now, and the one after it waits one interval from then.
    await new Promise((r) => setTimeout(r, 900));
    expect(await takeChatSlot.run(redis, { slot, intervalMs: 200 })).toBe(0);
    expect(await takeChatSlot.run(redis, { slot, intervalMs: 200 })).toBeGreaterThan(150);
    // The slot key expires once idle, so a platform that stopped leaves nothing behind.
    expect(await redis.pttl(slot)).toBeLessThanOrEqual(1400);
  });
});

describe('queueChatUpdate', () => {
  it('keeps one of an update queued twice, and does not queue one already posted', async () => {
    const keys = { pending: `${prefix}:XM-1:pending`, done: `${prefix}:XM-1:done` };
    const update = JSON.stringify({ seq: 4, text: 'Acknowledged by alice.' });
    expect(await queueChatUpdate.run(redis, { ...keys, seq: 4, update, ttlS: 60 })).toBe(true);
    expect(await queueChatUpdate.run(redis, { ...keys, seq: 4, update, ttlS: 60 })).toBe(false);
    expect(await redis.zrange(keys.pending, '0', '-1')).toEqual([update]);
    expect(await redis.ttl(keys.pending)).toBeGreaterThan(50);

    // Posted: out of the pending set, its seq remembered; a repeat of it (a retried event) is not queued again.
    await redis.multi().zrem(keys.pending, update).zadd(keys.done, Date.now(), 4).exec();
    expect(await queueChatUpdate.run(redis, { ...keys, seq: 4, update, ttlS: 60 })).toBe(false);
    expect(await redis.exists(keys.pending)).toBe(0);
    const next = JSON.stringify({ seq: 5, text: 'Resolved by alice.' });
    expect(await queueChatUpdate.run(redis, { ...keys, seq: 5, update: next, ttlS: 60 })).toBe(true);
  });
});

describe('merge', () => {
  it('puts follow-ups one per line, and cuts a long run with the count of the rest', () => {
    expect(merge('XM-7', ['Acknowledged by alice.', '', 'Resolved by alice.']).text).toBe('Acknowledged by alice.\nResolved by alice.');
    const many = Array.from({ length: 300 }, (_, i) => `Message 0x${String(i).padStart(8, '0')}… in block ${1000 + i} is now cross-safe.`);
    const { text } = merge('XM-7', many);
    const lines = text.split('\n');
    expect(text.length).toBeLessThan(1700);
    expect(lines[0]).toBe(many[0]);
    expect(lines.at(-1)).toBe(`…and ${300 - (lines.length - 1)} more updates: the audit trail (\`/xmsg status XM-7\`) has them all.`);
    // One that is longer than the whole budget still goes out (the platform truncates it), never an empty reply.
    expect(merge('XM-7', ['x'.repeat(3000)]).text).toHaveLength(3000);
  });
});
