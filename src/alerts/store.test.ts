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
      expect(r).toEqual({ alertId: id, seq: i, created: false, resolved: false, nextLevel: 0 });
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
    expect(await store.change(alertId, 'promoted', 'xmsg', { messageId: 'pz' })).toEqual({ refused: 'not part of this alert' });
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

  it('sets up the first escalation step of a new alert, unless a silence mutes it', async () => {
    const opened = await store.open(occurrence());
    expect(opened).toMatchObject({ created: true, seq: 1, nextLevel: 1 });
    expect(await store.pendingStep(opened.alertId)).toEqual({ level: 1, seq: 1 });
    const muted = await store.open(occurrence({ silenceId: 'S-9' }));
    expect(muted).toMatchObject({ created: true, nextLevel: 0 });
    expect(await store.pendingStep(muted.alertId)).toBeUndefined();
  });

  it('a timer step applied again returns its first result, so a retried step pages once and sets up the same next step', async () => {
    const { alertId } = await store.open(occurrence());
    const step = { level: 1, note: 'paging on-call (level 1)', eventId: `esc-${alertId}-1-1` };
    const first = await store.change(alertId, 'timer', 'xmsg', step);
    expect(first).toEqual({ alertId, seq: 2, created: false, resolved: false, nextLevel: 2 });
    // Its replica died before the page was queued: the step runs again, on another replica.
    expect(await otherReplica.change(alertId, 'timer', 'xmsg', step)).toEqual(first);
    expect(await store.change(alertId, 'timer', 'xmsg', { level: 1 })).toEqual({ refused: 'already escalated' });
    expect(await store.pendingStep(alertId)).toEqual({ level: 2, seq: 2 });
    expect((await store.audit(alertId)).map((e) => [e.action, e.note])).toEqual([
      ['opened', expect.any(String)],
      ['timer', 'paging on-call (level 1)'],
    ]);
  });

  it('escalates by hand to the next level once: a second press within the window is refused, naming the first', async () => {
    const { alertId } = await store.open(occurrence());
    const press = (who: string, now: number, level = 1) => store.change(alertId, 'escalate', who, { level, debounceMs: 10_000, now });
    // Two replicas at once: which arrives first is up to Redis; exactly one escalates and the other names it.
    const [a, b] = await Promise.all([
      press('alice (slack:U1)', 50_000),
      otherReplica.change(alertId, 'escalate', 'bob (slack:U2)', { level: 1, debounceMs: 10_000, now: 50_000 }),
    ]);
    const first = 'seq' in a ? 'alice (slack:U1)' : 'bob (slack:U2)';
    const [won, lost] = 'seq' in a ? [a, b] : [b, a];
    expect(won).toMatchObject({ seq: 2, nextLevel: 2 });
    expect(lost).toEqual({ refused: `already escalated to level 1 by ${first} 0 s ago` });
    // Seen before the first press and sent after the window: still one level for what the presser saw.
    expect(await press('bob (slack:U2)', 70_000)).toEqual({ refused: `already escalated to level 1 by ${first} 20 s ago` });
    expect(await press('bob (slack:U2)', 70_000, 2)).toMatchObject({ seq: 3, nextLevel: 3 });
    expect(await store.pendingStep(alertId)).toEqual({ level: 3, seq: 3 });
    expect((await store.get(alertId))!.escalationLevel).toBe(2);
    // A timer's page counts as an escalation too.
    expect(await store.change(alertId, 'timer', 'xmsg', { level: 3, now: 80_000 })).toMatchObject({ nextLevel: 4 });
    expect(await press('carol (slack:U3)', 82_000, 4)).toEqual({ refused: 'already escalated to level 3 by xmsg 2 s ago' });
  });

  it('escalates an acknowledged or muted alert by hand without setting up a next step; unmuting an open one does', async () => {
    const acked = (await store.open(occurrence())).alertId;
    await store.change(acked, 'ack', 'alice');
    expect(await store.change(acked, 'escalate', 'alice', { level: 1 })).toMatchObject({ nextLevel: 0 });
    const muted = (await store.open(occurrence())).alertId;
    await store.change(muted, 'silence', 'alice', { silenceId: 'S-1' });
    expect(await store.change(muted, 'escalate', 'alice', { level: 1 })).toMatchObject({ nextLevel: 0 });
    expect(await store.change(muted, 'unmute', 'xmsg', { silenceId: 'S-1' })).toMatchObject({ seq: 4, nextLevel: 2 });
    expect(await store.pendingStep(muted)).toEqual({ level: 2, seq: 4 });
    expect(await store.change(acked, 'silence', 'alice', { silenceId: 'S-2' })).toMatchObject({ nextLevel: 0 });
    expect(await store.change(acked, 'unmute', 'xmsg', { silenceId: 'S-2' })).toMatchObject({ nextLevel: 0 });
  });

  it('resolves by itself when the blocks of all its messages are replaced or reorged out, and audits it as xmsg', async () => {
    const o = occurrence({ messageId: 'ra' });
    const { alertId } = await store.open(o);
    await store.open({ ...o, eventId: 'rb', messageId: 'rb' });
    await store.open({ ...o, eventId: 'rc', messageId: 'rc' });
    const resolveNote = 'Every block replaced, as the protocol requires: resolved automatically.';
    expect(await store.change(alertId, 'replaced', 'xmsg', { eventId: 'replaced-ra', messageId: 'ra', resolveNote })).toMatchObject({
      resolved: false,
    });
    expect(await store.change(alertId, 'reorged', 'xmsg', { eventId: 'reorged-rb', messageId: 'rb', resolveNote })).toMatchObject({
      resolved: false,
    });
    expect(await store.change(alertId, 'replaced', 'xmsg', { eventId: 'replaced-zz', messageId: 'zz' })).toEqual({
      refused: 'not part of this alert',
    });
    expect(
      await store.change(alertId, 'replaced', 'xmsg', { eventId: 'replaced-rc', messageId: 'rc', note: 'rc', resolveNote }),
    ).toMatchObject({
      resolved: true,
    });
    expect(await store.get(alertId)).toMatchObject({ state: 'resolved', resolvedBy: 'xmsg' });
    expect(await store.alertForDedupKey(o.dedupKey)).toBeUndefined();
    expect((await store.audit(alertId)).slice(-2).map((e) => [e.who, e.action, e.note])).toEqual([
      ['xmsg', 'replaced', 'rc'],
      ['xmsg', 'resolve', resolveNote],
    ]);
  });

  it('lists at most 1,000 message ids per alert, and still resolves when the messages past them settle', async () => {
    const chainId = ++chains;
    const ids = Array.from({ length: 1005 }, (_, i) => `big-${chainId}-${i}`);
    let alertId = '';
    for (const [i, messageId] of ids.entries())
      alertId = (await store.open(occurrence({ chainId, messageId, summary: summary(messageId) }), 1000 + i)).alertId;
    // The same message again (another event about it) is not counted twice.
    await store.open(occurrence({ chainId, messageId: ids[1004] }));
    expect(await redis.scard(k.messages(alertId))).toBe(1000);
    expect(await redis.sismember(k.messages(alertId), ids[1000]!)).toBe(0);
    expect(await redis.hget(k.alert(alertId), 'outstanding')).toBe('1005');
    expect((await store.get(alertId))!).toMatchObject({ count: 1006, sample: ids.slice(0, 5).map(summary) });
    for (const messageId of ids.slice(0, -1)) {
      const r = await store.change(alertId, 'promoted', 'xmsg', { eventId: `promoted-${messageId}`, messageId });
      expect(r).toMatchObject({ resolved: false });
    }
    // A message the alert does not list, whose index does not name the alert either, is not one of its messages.
    expect(await store.change(alertId, 'promoted', 'xmsg', { eventId: 'promoted-stranger', messageId: 'stranger' })).toEqual({
      refused: 'not part of this alert',
    });
    const last = ids.at(-1)!;
    expect(await store.change(alertId, 'promoted', 'xmsg', { eventId: `promoted-${last}`, messageId: last })).toMatchObject({
      resolved: true,
    });
  });

  it('still resolves an alert from before the outstanding counter, whose set held exactly its outstanding messages', async () => {
    const o = occurrence({ messageId: 'oa' });
    const { alertId } = await store.open(o);
    await store.open({ ...o, eventId: 'ob', messageId: 'ob' });
    // As the earlier version left it: no counter, and a promoted message already removed from the set.
    await redis.hdel(k.alert(alertId), 'outstanding');
    await redis.srem(k.messages(alertId), 'oa');
    expect(await store.change(alertId, 'promoted', 'xmsg', { eventId: 'promoted-ob', messageId: 'ob' })).toMatchObject({ resolved: true });
  });

  it('keeps the first 20 and the last 200 audit entries, counting what it leaves out', async () => {
    const { alertId } = await store.open(occurrence(), 1_000_000);
    for (let i = 1; i <= 250; i++) await store.change(alertId, 'note', 'xmsg', { note: `note ${i}`, now: 1_000_000 + i });
    const trail = await store.audit(alertId);
    expect(trail).toHaveLength(20 + 1 + 200);
    expect(trail[0]!.action).toBe('opened');
    expect(trail[19]!.note).toBe('note 19');
    expect(trail[20]).toMatchObject({ at: 1_000_020, who: 'xmsg', action: 'trimmed', left_out: 31 });
    expect(trail[20]!.note).toMatch(/^31 entries left out: the audit trail keeps its first 20 entries, its last 200/);
    expect(trail[21]!.note).toBe('note 51');
    expect(trail.at(-1)!.note).toBe('note 250');
  });

  it('leaves out audit entries older than the retention, past the first ones', async () => {
    const { alertId } = await store.open(occurrence(), 0);
    for (let i = 1; i <= 30; i++) await store.change(alertId, 'note', 'xmsg', { note: `old ${i}`, now: i * 1000 });
    // The retention is an hour: the entries after the first 20 that are older than that go.
    await store.change(alertId, 'note', 'xmsg', { note: 'new', now: 3600_000 + 25_500 });
    const trail = await store.audit(alertId);
    expect(trail.map((e) => e.note).slice(19)).toEqual([
      'old 19',
      '6 entries left out: the audit trail keeps its first 20 entries, its last 200, and none older than the alert retention',
      'old 26',
      'old 27',
      'old 28',
      'old 29',
      'old 30',
      'new',
    ]);
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
