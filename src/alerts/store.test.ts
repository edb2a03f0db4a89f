import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { MessageSummary } from './model.js';
import { AlertStore, type OpenInput } from './store.js';

// The alert scripts (src/alerts/lua/) against Redis alone, through the store.

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(url);
/** A second replica: its own connection to the same Redis and prefix. */
const otherRedis = new Redis(url);
const prefix = `xmsgtest-alerts-${randomUUID().slice(0, 8)}`;
const store = new AlertStore(redis, prefix, 3600);
const otherReplica = new AlertStore(otherRedis, prefix, 3600);
const k = store.keys;

afterAll(async () => {
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await Promise.all([redis.quit(), otherRedis.quit()]);
});

let events = 0;
let chains = 1000;
/** An occurrence on a chain of its own unless `chainId` is given (each test its own dedup key). */
function occurrence(o: Partial<OpenInput> = {}): OpenInput {
  const chainId = o.chainId ?? ++chains;
  return {
    eventId: `ev-${++events}`,
    dedupKey: `invalid_message-${chainId}`,
    kind: 'invalid_message',
    severity: 'critical',
    title: `Invalid messages on ${chainId}`,
    chainId,
    detail: `problem ${events}`,
    silenceId: '',
    groupWindowMs: 0,
    ...o,
  };
}

const summary = (id: string) => ({ id }) as MessageSummary;

describe('alert scripts', () => {
  it('opens an alert, then folds occurrences of its dedup key into it', async () => {
    const first = occurrence({ messageId: 'm1', sourceChainId: 902, summary: summary('m1') });
    const opened = await store.open(first, 1000);
    expect(opened).toMatchObject({ created: true, seq: 1, resolved: false });
    const id = opened.alertId;
    expect(id).toMatch(/^XM-\d+$/);

    for (let i = 2; i <= 7; i++) {
      const r = await store.open(
        occurrence({ chainId: first.chainId, messageId: `m${i}`, sourceChainId: 902 + (i % 2), summary: summary(`m${i}`) }),
        1000 + i,
      );
      expect(r).toEqual({ alertId: id, seq: i, created: false, resolved: false });
    }
    const alert = (await store.get(id))!;
    expect(alert).toMatchObject({ count: 7, state: 'open', dedupKey: k.dedup(first.dedupKey), lastAt: 1007, detail: `problem ${events}` });
    expect(alert.sample.map((s) => s.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(alert.sourceChainIds).toEqual([902, 903]);
    expect(await store.alertForDedupKey(first.dedupKey)).toBe(id);
    expect(await store.alertForMessage('m7')).toBe(id);
    expect((await store.audit(id)).map((e) => e.action)).toEqual(['opened']);
  });

  it('applies an event once: the same event again returns the first result', async () => {
    const o = occurrence();
    const first = await store.open(o, 1000);
    expect(await store.open(o, 2000)).toEqual(first);
    expect(await otherReplica.open(o, 3000)).toEqual(first);
    expect((await store.get(first.alertId))!.count).toBe(1);
  });

  it('opens a new alert when the last occurrence is older than the window', async () => {
    const o = occurrence({ groupWindowMs: 1000 });
    const first = await store.open(o, 10_000);
    expect((await store.open({ ...o, eventId: 'in-window' }, 11_000)).alertId).toBe(first.alertId);
    const later = await store.open({ ...o, eventId: 'after-window' }, 12_001);
    expect(later.created).toBe(true);
    expect(later.alertId).not.toBe(first.alertId);
    expect(await store.alertForDedupKey(o.dedupKey)).toBe(later.alertId);
  });

  it('acknowledges once: the second press is refused with who did it', async () => {
    const { alertId } = await store.open(occurrence());
    const acked = await store.change(alertId, 'ack', 'slack:U1 (alice)', { note: 'Acknowledged by alice.' });
    expect(acked).toMatchObject({ alertId, seq: 2, resolved: false });
    expect(await store.change(alertId, 'ack', 'slack:U2 (bob)')).toEqual({ refused: 'already acknowledged by slack:U1 (alice)' });
    expect((await store.audit(alertId)).filter((e) => e.action === 'ack')).toHaveLength(1);
    expect((await store.get(alertId))!).toMatchObject({ state: 'acknowledged', ackedBy: 'slack:U1 (alice)', seq: 2 });
  });

  it('resolving frees the dedup key, so the next occurrence opens a new alert', async () => {
    const o = occurrence();
    const { alertId } = await store.open(o);
    expect(await store.change(alertId, 'resolve', 'discord:9 (carol)')).toMatchObject({ resolved: true });
    expect(await redis.exists(k.dedup(o.dedupKey))).toBe(0);
    expect(await redis.zscore(k.unresolved, alertId)).toBeNull();
    expect(await redis.ttl(k.alert(alertId))).toBeGreaterThan(3500);
    expect(await store.change(alertId, 'resolve', 'discord:9 (carol)')).toEqual({ refused: 'already resolved by discord:9 (carol)' });
    const next = await store.open({ ...o, eventId: 'after-resolve' });
    expect(next.created).toBe(true);
    expect(next.alertId).not.toBe(alertId);
  });

  it('resolving an older alert leaves the dedup key of the newer one', async () => {
    const o = occurrence({ groupWindowMs: 1000 });
    const old = await store.open(o, 1000);
    const newer = await store.open({ ...o, eventId: 'newer' }, 5000);
    await store.change(old.alertId, 'resolve', 'xmsg');
    expect(await store.alertForDedupKey(o.dedupKey)).toBe(newer.alertId);
  });

  it('resolves by itself when its last message is promoted; a follow-up event applies once', async () => {
    const o = occurrence({ messageId: 'pa' });
    const { alertId } = await store.open(o);
    await store.open({ ...o, eventId: 'pb', messageId: 'pb' });
    const first = await store.change(alertId, 'promoted', 'xmsg', { eventId: 'promoted-pa', messageId: 'pa' });
    expect(first).toMatchObject({ resolved: false });
    expect(await store.change(alertId, 'promoted', 'xmsg', { eventId: 'promoted-pa', messageId: 'pa' })).toEqual(first);
    expect(await store.change(alertId, 'promoted', 'xmsg', { messageId: 'pa' })).toEqual({ refused: 'not part of this alert' });
    expect(await store.change(alertId, 'promoted', 'xmsg', { eventId: 'promoted-pb', messageId: 'pb' })).toMatchObject({ resolved: true });
    expect((await store.get(alertId))!).toMatchObject({ state: 'resolved', resolvedBy: 'xmsg' });
    expect(await store.alertForDedupKey(o.dedupKey)).toBeUndefined();
  });

  it('escalates on a timer only while open, unmuted and below the level', async () => {
    const { alertId } = await store.open(occurrence());
    expect(await store.change(alertId, 'timer', 'xmsg', { level: 1 })).toMatchObject({ alertId });
    expect(await store.change(alertId, 'timer', 'xmsg', { level: 1 })).toEqual({ refused: 'already escalated' });
    await store.change(alertId, 'silence', 'slack:U1 (alice)', { silenceId: 'S-1' });
    expect(await store.change(alertId, 'timer', 'xmsg', { level: 2 })).toEqual({ refused: 'silenced' });
    expect(await store.change(alertId, 'unmute', 'xmsg')).toMatchObject({ alertId });
    expect(await store.change(alertId, 'unmute', 'xmsg')).toEqual({ refused: 'not silenced' });
    expect((await store.get(alertId))!.escalationLevel).toBe(1);
  });

  it('refuses a change to an unknown alert or an unknown action', async () => {
    expect(await store.change('XM-0', 'ack', 'xmsg')).toEqual({ refused: 'unknown alert' });
    const { alertId } = await store.open(occurrence());
    expect(await store.change(alertId, 'explode' as 'ack', 'xmsg')).toEqual({ refused: 'unknown action explode' });
  });

  it('two replicas opening one dedup key at once make one alert that counts every occurrence', async () => {
    const chainId = ++chains;
    const opens = Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? store : otherReplica).open(occurrence({ chainId, messageId: `race-${i}` })),
    );
    const results = await Promise.all(opens);
    const ids = new Set(results.map((r) => r.alertId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const [id] = ids;
    expect((await store.get(id!))!.count).toBe(20);
    expect(new Set(results.map((r) => r.seq)).size).toBe(20);
  });

  it('alerts opened at once for different dedup keys take consecutive numbers', async () => {
    const before = Number(await redis.get(k.seq));
    const inputs = Array.from({ length: 20 }, () => occurrence());
    const results = await Promise.all(inputs.map((o, i) => (i % 2 ? store : otherReplica).open(o)));
    const numbers = results.map((r) => Number(r.alertId.slice('XM-'.length)));
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => before + 1 + i));
    for (const [i, r] of results.entries()) {
      expect(await store.get(r.alertId)).toMatchObject({ id: r.alertId, count: 1, dedupKey: k.dedup(inputs[i]!.dedupKey) });
    }
  });
});
