import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { coveringSilence, inEffect, matchingSilence, type Silence } from './silences.js';
import { AlertStore } from './store.js';

const NOW = 1_750_000_000_000;
const HOUR = 3_600_000;

const silence = (id: string, matcher: Silence['matcher'], value: string, o: Partial<Silence> = {}): Silence => ({
  id,
  matcher,
  value,
  from: NOW - HOUR,
  until: NOW + HOUR,
  by: 'alice (slack:U1)',
  reason: '',
  createdAt: NOW - HOUR,
  endedBy: '',
  ...o,
});
const ORIGIN = '0x00000000000000000000000000000000000E4170';

describe('inEffect', () => {
  it('holds from the start, inclusive, to the end, exclusive', () => {
    const window = { from: NOW, until: NOW + HOUR };
    expect(inEffect(window, NOW - 1)).toBe(false);
    expect(inEffect(window, NOW)).toBe(true);
    expect(inEffect(window, NOW + HOUR - 1)).toBe(true);
    expect(inEffect(window, NOW + HOUR)).toBe(false);
  });

  it('never holds for a window lifted before it started (start = end)', () => {
    expect(inEffect({ from: NOW, until: NOW }, NOW)).toBe(false);
  });
});

describe('matchingSilence', () => {
  it('mutes an alert of a silenced kind, whatever its chain', () => {
    const s = silence('S-1', 'kind', 'unpromoted');
    expect(matchingSilence([s], { kind: 'unpromoted', chainId: 902 }, NOW)).toBe(s);
    expect(matchingSilence([s], { kind: 'invalid_message', chainId: 902 }, NOW)).toBeUndefined();
  });

  it('mutes an alert on a silenced chain, or about a message from it', () => {
    const s = silence('S-1', 'chain', '901');
    expect(matchingSilence([s], { kind: 'chain_unhealthy', chainId: 901 }, NOW)).toBe(s);
    expect(matchingSilence([s], { kind: 'invalid_message', chainId: 902, sourceChainId: 901 }, NOW)).toBe(s);
    expect(matchingSilence([s], { kind: 'invalid_message', chainId: 902, sourceChainId: 903 }, NOW)).toBeUndefined();
    expect(matchingSilence([s], { kind: 'chain_unhealthy', chainId: 9010 }, NOW)).toBeUndefined();
  });

  it('mutes an alert about a message from a silenced origin, in any hex case', () => {
    const s = silence('S-1', 'origin', ORIGIN.toLowerCase());
    const about = (origin?: string) => ({ kind: 'invalid_message' as const, chainId: 902, sourceChainId: 901, origin });
    expect(matchingSilence([s], about(ORIGIN), NOW)).toBe(s);
    expect(matchingSilence([silence('S-2', 'origin', ORIGIN)], about(ORIGIN.toLowerCase()), NOW)?.id).toBe('S-2');
    expect(matchingSilence([s], about('0x000000000000000000000000000000000000dEaD'), NOW)).toBeUndefined();
    // An alert about no message (a chain's health) has no origin.
    expect(matchingSilence([s], { kind: 'chain_unhealthy', chainId: 902 }, NOW)).toBeUndefined();
  });

  it("never mutes a new alert with another alert's silence", () => {
    const s = silence('S-1', 'alert', 'XM-1');
    expect(matchingSilence([s], { kind: 'invalid_message', chainId: 902, sourceChainId: 901, origin: ORIGIN }, NOW)).toBeUndefined();
  });

  it('names the first matching silence', () => {
    const silences = [silence('S-1', 'chain', '903'), silence('S-2', 'kind', 'status_flip'), silence('S-3', 'chain', '902')];
    expect(matchingSilence(silences, { kind: 'status_flip', chainId: 902 }, NOW)?.id).toBe('S-2');
    expect(matchingSilence([], { kind: 'status_flip', chainId: 902 }, NOW)).toBeUndefined();
  });

  it('mutes only inside the window: not before a scheduled one starts, not once it has ended', () => {
    const window = silence('S-4', 'chain', '902', { from: NOW + HOUR, until: NOW + 3 * HOUR });
    const subject = { kind: 'invalid_message' as const, chainId: 902 };
    expect(matchingSilence([window], subject, NOW)).toBeUndefined();
    expect(matchingSilence([window], subject, NOW + HOUR - 1)).toBeUndefined();
    expect(matchingSilence([window], subject, NOW + HOUR)).toBe(window);
    expect(matchingSilence([window], subject, NOW + 3 * HOUR - 1)).toBe(window);
    expect(matchingSilence([window], subject, NOW + 3 * HOUR)).toBeUndefined();
    // A scheduled window does not hide one in effect after it in the list.
    const now = silence('S-5', 'kind', 'invalid_message');
    expect(matchingSilence([window, now], subject, NOW)).toBe(now);
  });
});

describe('coveringSilence', () => {
  const opened = NOW - HOUR / 2;
  const xm7 = { id: 'XM-7', openedAt: opened, kind: 'invalid_message' as const, chainId: 902, sourceChainId: 901, origin: ORIGIN };

  it('covers an alert with its own silences and the silences of new alerts in effect when it opened', () => {
    const own = silence('S-1', 'alert', 'XM-7');
    const chain = silence('S-2', 'chain', '901');
    expect(coveringSilence([own], xm7, NOW)).toBe(own);
    expect(coveringSilence([chain], xm7, NOW)).toBe(chain);
    expect(coveringSilence([silence('S-3', 'alert', 'XM-8'), silence('S-4', 'kind', 'unpromoted')], xm7, NOW)).toBeUndefined();
  });

  it('leaves alone an alert opened before a silence of new alerts started', () => {
    expect(coveringSilence([silence('S-1', 'chain', '902', { from: opened + 1 })], xm7, NOW)).toBeUndefined();
    expect(coveringSilence([silence('S-2', 'kind', 'invalid_message', { from: opened })], xm7, NOW)?.id).toBe('S-2');
  });

  it('covers only while in effect, and names the one that ends last', () => {
    const ended = silence('S-1', 'alert', 'XM-7', { until: NOW });
    const soon = silence('S-2', 'origin', ORIGIN.toLowerCase(), { until: NOW + HOUR });
    const last = silence('S-3', 'alert', 'XM-7', { until: NOW + 2 * HOUR });
    expect(coveringSilence([ended], xm7, NOW)).toBeUndefined();
    expect(coveringSilence([ended, last, soon], xm7, NOW)).toBe(last);
    expect(coveringSilence([ended, soon], xm7, NOW)).toBe(soon);
  });
});

// The silences in Redis, through the alert store.

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `xmsgtest-silences-${randomUUID().slice(0, 8)}`;
const RETENTION_S = 600;
const store = new AlertStore(redis, prefix, RETENTION_S);

afterAll(async () => {
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await redis.quit();
});

async function added(o: Partial<Silence> = {}, now = Date.now()): Promise<Silence> {
  const s = silence(await store.newSilenceId(), 'chain', '902', { from: now, until: now + HOUR, createdAt: now, ...o });
  await store.addSilence(s, now);
  return s;
}

describe('silences in the alert store', () => {
  it('lists those in effect and the scheduled ones, by start; only those in effect are active', async () => {
    const now = Date.now();
    const later = await added({ from: now + HOUR, until: now + 2 * HOUR });
    const current = await added({ from: now - 1000 });
    const ended = await added({ from: now - 2 * HOUR, until: now - HOUR });
    const ids = (list: Silence[]) => list.map((s) => s.id).filter((id) => [later.id, current.id, ended.id].includes(id));
    expect(ids(await store.unendedSilences(now))).toEqual([current.id, later.id]);
    expect(ids(await store.activeSilences(now))).toEqual([current.id]);
    expect(await store.getSilence(later.id)).toEqual(later);
  });

  it('lifts a silence once: the second lift, and a lift after its end, are refused', async () => {
    const now = Date.now();
    const s = await added({}, now);
    const [first, second] = await Promise.all([
      store.endSilence(s.id, 'bob (slack:U2)', now + 10),
      store.endSilence(s.id, 'carol', now + 10),
    ]);
    expect([first, second].sort()).toEqual([false, true]);
    expect(await store.getSilence(s.id)).toMatchObject({ until: now + 10, endedBy: 'bob (slack:U2)' });
    expect((await store.activeSilences(now + 10)).map((x) => x.id)).not.toContain(s.id);
    const over = await added({ from: now - 2 * HOUR, until: now - HOUR });
    expect(await store.endSilence(over.id, 'bob', now)).toBe(false);
    expect(await store.endSilence('S-999999', 'bob', now)).toBe(false);
  });

  it('cancels a scheduled window so that it never mutes', async () => {
    const now = Date.now();
    const s = await added({ from: now + HOUR, until: now + 2 * HOUR }, now);
    expect(await store.endSilence(s.id, 'bob', now)).toBe(true);
    const cancelled = (await store.getSilence(s.id))!;
    expect(cancelled).toMatchObject({ from: now, until: now });
    expect(inEffect(cancelled, now)).toBe(false);
    expect(inEffect(cancelled, now + HOUR + 1)).toBe(false);
  });

  it('keeps a silence until its end plus the retention, and forgets older ones in the index', async () => {
    const now = Date.now();
    const s = await added({ until: now + HOUR }, now);
    const ttl = await redis.pttl(store.keys.silence(s.id));
    expect(ttl).toBeGreaterThan(HOUR + RETENTION_S * 1000 - 5000);
    expect(ttl).toBeLessThanOrEqual(HOUR + RETENTION_S * 1000);
    // A lifted one is kept the retention from when it was lifted.
    await store.endSilence(s.id, 'bob', now);
    expect(await redis.pttl(store.keys.silence(s.id))).toBeLessThanOrEqual(RETENTION_S * 1000);

    const old = await added({ from: now - 3 * HOUR, until: now - RETENTION_S * 1000 - 1 }, now - 3 * HOUR);
    const recent = await added({ from: now - 3 * HOUR, until: now - RETENTION_S * 1000 + HOUR }, now - 3 * HOUR);
    expect(await redis.zscore(store.keys.silences, old.id)).not.toBeNull();
    await added({}, now); // adding trims
    expect(await redis.zscore(store.keys.silences, old.id)).toBeNull();
    expect(await redis.zscore(store.keys.silences, recent.id)).not.toBeNull();
  });

  it('names the unresolved alerts a silence mutes', async () => {
    const open = (chainId: number, silenceId: string) =>
      store.open({
        eventId: `ev-${randomUUID()}`,
        dedupKey: `invalid_message-${chainId}`,
        kind: 'invalid_message',
        severity: 'critical',
        title: 't',
        chainId,
        detail: 'd',
        silenceId,
        groupWindowMs: 0,
      });
    const a = await open(1, 'S-77');
    const b = await open(2, 'S-78');
    const c = await open(3, 'S-77');
    await store.change(c.alertId, 'resolve', 'bob');
    expect(await store.mutedBy('S-77')).toEqual([a.alertId]);
    expect(await store.mutedBy('S-78')).toEqual([b.alertId]);
    // The end of one silence does not lift another that has muted the alert since.
    await store.change(a.alertId, 'silence', 'bob', { silenceId: 'S-79' });
    expect(await store.change(a.alertId, 'unmute', 'xmsg', { silenceId: 'S-77' })).toEqual({ refused: 'muted by S-79' });
    expect(await store.mutedBy('S-77')).toEqual([]);
    expect(await store.change(a.alertId, 'unmute', 'xmsg', { silenceId: 'S-79' })).toMatchObject({ alertId: a.alertId });
  });

  it('hands an alert from an ended silence to one that still covers it, only while the ended one mutes it', async () => {
    const { alertId } = await store.open({
      eventId: `ev-${randomUUID()}`,
      dedupKey: 'invalid_message-4',
      kind: 'invalid_message',
      severity: 'critical',
      title: 't',
      chainId: 4,
      detail: 'd',
      silenceId: 'S-80',
      groupWindowMs: 0,
    });
    await store.change(alertId, 'silence', 'bob', { silenceId: 'S-81' });
    const handOver = { silenceId: 'S-80', takesOverFrom: 'S-81', eventId: `silence-end-S-81-${alertId}-S-80` };
    const first = await store.change(alertId, 'silence', 'xmsg', handOver);
    expect(await store.mutedBy('S-80')).toEqual([alertId]);
    // The same end again (a second replica): the first result, nothing more.
    expect(await store.change(alertId, 'silence', 'xmsg', handOver)).toEqual(first);
    // Another end of S-81 that chose another silence finds S-80 muting it now.
    expect(await store.change(alertId, 'silence', 'xmsg', { silenceId: 'S-82', takesOverFrom: 'S-81' })).toEqual({
      refused: 'muted by S-80',
    });
    await store.change(alertId, 'unmute', 'xmsg', { silenceId: 'S-80' });
    expect(await store.change(alertId, 'silence', 'xmsg', { silenceId: 'S-82', takesOverFrom: 'S-80' })).toEqual({
      refused: 'not silenced',
    });
    expect((await store.get(alertId))!.silenceId).toBe('');
  });
});
