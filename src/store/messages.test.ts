import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageId, msgHashField, shortId } from './keys.js';
import { type MessageData, MessageStore } from './messages.js';
import { PIECE_BYTES } from './record.js';

// The message record scripts (src/store/lua/) against Redis alone, through the store's typed calls.

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `xmsgtest-messages-${randomUUID().slice(0, 8)}`;
const store = new MessageStore(redis, prefix, 3600);
const k = store.keys;

afterAll(async () => {
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await redis.quit();
});

let logIndex = 0;
/** A distinct message on chain 901 pointing into chain 902 (each call a new log index and msgHash). */
function message(overrides: Partial<MessageData> = {}): MessageData {
  const blockHash = `0x${'ab'.repeat(32)}` as const;
  const n = ++logIndex;
  return {
    id: messageId(901, blockHash, n),
    chainId: 901,
    blockNumber: '1234',
    blockHash,
    blockTimestamp: '1700000000',
    txHash: `0x${'cd'.repeat(32)}`,
    logIndex: n,
    msgHash: `0x${n.toString(16).padStart(2, '0').repeat(32)}`,
    identifier: {
      origin: '0x00000000000000000000000000000000000E4170',
      blockNumber: '99',
      logIndex: '3',
      timestamp: '1699999999',
      chainId: '902',
    },
    seenAt: 1_700_000_000_000 + n,
    ...overrides,
  };
}

const members = (key: string) => redis.zrange(key, '0', '-1');
const count = async (status: string) => Number((await redis.hget(k.statusCounts, `901|902|${status}`)) ?? 0);

describe('message record scripts', () => {
  beforeAll(async () => {
    expect(await redis.ping()).toBe('PONG');
  });

  it('creates a record once, indexed, and reads it back', async () => {
    const d = message();
    const short = shortId(d.id);
    expect(await store.create(d, 'valid', 'initiating log found', 5000)).toBe(true);
    expect(await store.create(d, 'invalid', 'again', 6000)).toBe(false);

    const rec = await store.get(d.id);
    expect(rec).toMatchObject({ data: d, status: 'valid', reason: 'initiating log found', safety: 'unsafe', marks: [] });
    expect(rec!.history.map((h) => h.what)).toEqual(['status valid: initiating log found']);
    expect(await redis.hget(k.msgHashBucket(d.msgHash), msgHashField(d.msgHash))).toBe(short);
    expect(await redis.zscore(k.bySource(902), short)).toBe('99');
    expect(await redis.zscore(k.pending(901), short)).toBe('1234');
    expect(await redis.zscore(k.deadlines(901), short)).toBe('5000');
    expect(await count('valid')).toBe(1);
    expect((await store.byMsgHash(d.msgHash)).map((r) => r.data.id)).toEqual([d.id]);
  });

  it('keeps an unsettled message out of pending and deadlines', async () => {
    const d = message();
    await store.create(d, 'future', 'source block not there yet', 5000);
    expect(await members(k.pending(901))).not.toContain(shortId(d.id));
    expect(await members(k.deadlines(901))).not.toContain(shortId(d.id));
  });

  it('stores a long value in 64-byte pieces, keeps the hash compact, and drops extra pieces when it shrinks', async () => {
    const d = message();
    const reason = `${'long reason '.repeat(15)}end`;
    await store.create(d, 'invalid', reason, 0);
    const raw = await redis.hgetall(k.message(shortId(d.id)));
    expect(raw.rs).toHaveLength(PIECE_BYTES);
    expect(raw['rs+1']).toHaveLength(PIECE_BYTES);
    expect(raw['rs+2']).toBe(reason.slice(2 * PIECE_BYTES));
    expect(await redis.object('ENCODING', k.message(shortId(d.id)))).toBe('listpack');
    expect((await store.get(d.id))!.reason).toBe(reason);

    await store.setStatus(d, 'invalid', 'invalid', 'short now', 0);
    const after = await redis.hgetall(k.message(shortId(d.id)));
    expect(Object.keys(after).filter((f) => f.startsWith('rs'))).toEqual(['rs']);
    expect((await store.get(d.id))!.reason).toBe('short now');
  });

  it('changes the status: counted, written to the history, settled into pending', async () => {
    const d = message();
    const short = shortId(d.id);
    await store.create(d, 'unknown', 'node down', 0);
    expect(await store.setStatus(d, 'unknown', 'unknown', 'still down', 0)).toBe('unknown');
    expect(await store.setStatus(d, 'unknown', 'valid', 'found', 7000)).toBe('unknown');
    const rec = (await store.get(d.id))!;
    expect(rec.status).toBe('valid');
    expect(rec.reason).toBe('found');
    expect(rec.history.map((h) => h.what)).toEqual(['status unknown: node down', 'status valid: found']);
    expect(await count('unknown')).toBe(0);
    expect(await redis.zscore(k.pending(901), short)).toBe('1234');
    expect(await redis.zscore(k.deadlines(901), short)).toBe('7000');
    expect(await store.setStatus(message(), 'valid', 'invalid', 'gone', 0)).toBeUndefined();
  });

  it('promotes once: out of pending and deadlines, into safe', async () => {
    const d = message();
    const short = shortId(d.id);
    await store.create(d, 'valid', 'ok', 9000);
    expect(await store.promote(d, 1300n)).toBe(true);
    expect(await store.promote(d, 1301n)).toBe(false);
    const rec = (await store.get(d.id))!;
    expect(rec.safety).toBe('cross-safe');
    expect(rec.history.at(-1)!.what).toBe('safety cross-safe (safe head 1300)');
    expect(await redis.zscore(k.pending(901), short)).toBeNull();
    expect(await redis.zscore(k.deadlines(901), short)).toBeNull();
    expect(await redis.zscore(k.safe(901), short)).toBe('1234');
  });

  it('drops a finalized message at once, unindexed and uncounted, and only once', async () => {
    const d = message();
    await store.create(d, 'valid', 'ok', 9000);
    await store.promote(d, 1300n);
    const before = await count('valid');
    const rec = (await store.get(d.id))!;
    expect(await store.drop(rec, 'finalized', 'both blocks final')).toBe(true);
    expect(await store.drop(rec, 'finalized', 'again')).toBe(false);
    expect(await store.get(d.id)).toBeUndefined();
    expect(await redis.hget(k.msgHashBucket(d.msgHash), msgHashField(d.msgHash))).toBeNull();
    expect(await redis.zscore(k.safe(901), shortId(d.id))).toBeNull();
    expect(await redis.zscore(k.bySource(902), shortId(d.id))).toBeNull();
    expect(await count('valid')).toBe(before - 1);
  });

  it('keeps a reorged message until its retention ends, then forgets it (in a pipeline)', async () => {
    const d = message();
    const short = shortId(d.id);
    await store.create(d, 'invalid', 'no initiating log', 0);
    expect(await store.drop((await store.get(d.id))!, 'reorged', 'block replaced')).toBe(true);
    const rec = (await store.get(d.id))!;
    expect(rec.safety).toBe('reorged');
    expect(rec.history.at(-1)!.what).toBe('safety reorged: block replaced');
    const due = Number(await redis.zscore(k.expiring, short));
    expect(due).toBeGreaterThan(Date.now() + 3_500_000);

    expect(await store.collectGarbage(due - 1)).toBe(0);
    expect(await store.collectGarbage(due)).toBe(1);
    expect(await store.get(d.id)).toBeUndefined();
    expect(await redis.zscore(k.expiring, short)).toBeNull();
    expect(await redis.hget(k.msgHashBucket(d.msgHash), msgHashField(d.msgHash))).toBeNull();
  });

  it('shares a msgHash bucket field between two messages and unindexes one of them', async () => {
    const first = message();
    const second = message({ msgHash: first.msgHash, seenAt: first.seenAt + 1 });
    await store.create(first, 'valid', 'ok', 0);
    await store.create(second, 'valid', 'ok', 0);
    expect((await store.byMsgHash(first.msgHash)).map((r) => r.data.id)).toEqual([first.id, second.id]);
    await store.drop((await store.get(first.id))!, 'finalized', 'final');
    expect(await redis.hget(k.msgHashBucket(first.msgHash), msgHashField(first.msgHash))).toBe(shortId(second.id));
  });

  it('sets a mark once, on a record that exists', async () => {
    const d = message();
    await store.create(d, 'valid', 'ok', 0);
    expect(await store.mark(d.id, 'unpromoted', 'deadline passed')).toBe(true);
    expect(await store.mark(d.id, 'unpromoted', 'again')).toBe(false);
    expect(await store.mark(message().id, 'unpromoted', 'no record')).toBe(false);
    const rec = (await store.get(d.id))!;
    expect(rec.marks).toEqual(['unpromoted']);
    expect(rec.history.at(-1)!.what).toBe('unpromoted: deadline passed');
  });

  it('creates a slice of records in one round trip, each once, and says which already existed', async () => {
    const [a, b, c, d] = [message(), message(), message(), message({ chainId: 903 })];
    expect(await store.create(b, 'valid', 'created before', 5000)).toBe(true);
    const validBefore = await count('valid');
    const created = await store.createMany([
      { data: a!, status: 'valid', reason: 'initiating log found', deadlineAt: 5000 },
      { data: b!, status: 'invalid', reason: 'again', deadlineAt: 6000 },
      { data: c!, status: 'future', reason: 'source block not produced', deadlineAt: 7000 },
      { data: d!, status: 'valid', reason: 'initiating log found', deadlineAt: 8000 },
    ]);
    expect(created).toEqual([true, false, true, true]);
    expect(await store.createMany([{ data: a!, status: 'invalid', reason: 'again', deadlineAt: 0 }])).toEqual([false]);
    expect(await redis.zscore(k.deadlines(901), shortId(a!.id))).toBe('5000');
    expect(await members(k.pending(903))).toEqual([shortId(d!.id)]);
    expect(await members(k.bySource(902))).toEqual(expect.arrayContaining([a, b, c, d].map((m) => shortId(m!.id))));
    expect((await store.get(a!.id))?.history.map((h) => h.what)).toEqual(['status valid: initiating log found']);
    expect((await store.get(b!.id))?.status).toBe('valid');
    expect((await store.get(c!.id))?.status).toBe('future');
    expect(await count('valid')).toBe(validBefore + 1);
    expect(Number(await redis.hget(k.statusCounts, '903|902|valid'))).toBe(1);
    expect(await members(k.pending(901))).toContain(shortId(a!.id));
    expect(await members(k.pending(901))).not.toContain(shortId(c!.id));
    expect(await store.createMany([])).toEqual([]);
  });

  it('stores any text in a slice: quotes, control characters, emoji, lone surrogates, more than a piece', async () => {
    const reason = `"quoted" \\ back\tslash\n\u0001 🚨 lone \ud800 end ${'long '.repeat(30)}`;
    // A malformed RPC answer's transaction hash, kept as text: a lone surrogate there too.
    const [a, b] = [message({ txHash: '0x12\udc00' }), message()];
    const created = await store.createMany([
      { data: a!, status: 'valid', reason, deadlineAt: 5000 },
      { data: b!, status: 'valid', reason: 'the literal text \\ud800 stays', deadlineAt: 5000 },
    ]);
    expect(created).toEqual([true, true]);
    const stored = (await store.get(a!.id))!;
    const expected = reason.replace('\ud800', '\ufffd');
    expect(stored.reason).toBe(expected);
    expect(stored.history.map((h) => h.what)).toEqual([`status valid: ${expected}`]);
    expect(stored.data).toEqual({ ...a, txHash: '0x12\ufffd' });
    expect((await store.get(b!.id))!.reason).toBe('the literal text \\ud800 stays');
  });
});
