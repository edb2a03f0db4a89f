import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { messageAlerts } from './message-alerts.js';
import type { AlertKind } from './model.js';
import { AlertStore } from './store.js';

// From messages to their alerts, against Redis alone, with alerts opened and changed by the store's scripts.

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `xmsgtest-message-alerts-${randomUUID().slice(0, 8)}`;
const store = new AlertStore(redis, prefix, 3600);

afterAll(async () => {
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await redis.quit();
});

/** One event about a message, applied as the alert service applies it: it opens or folds into `<kind>-<chain>`. */
const raise = (kind: AlertKind, messageId: string, chainId = 902) =>
  store.open({
    eventId: `${kind}-${messageId}`,
    dedupKey: `${kind}-${chainId}`,
    kind,
    severity: 'critical',
    title: `${kind} on ${chainId}`,
    chainId,
    detail: kind,
    messageId,
    silenceId: '',
    groupWindowMs: 0,
  });

describe('messageAlerts', () => {
  it('names the alerts each message is listed in, oldest first, and the events it caused', async () => {
    const invalid = await raise('invalid_message', 'm1');
    await raise('invalid_message', 'm2');
    const violation = await raise('cross_safety_violation', 'm1');
    await raise('unpromoted', 'm3', 903);
    // A follow-up with no alert of its own, applied to m1's alert by its deterministic event id.
    await store.change(invalid.alertId, 'note', 'xmsg', { note: 'replaced', eventId: 'replaced-m1', messageId: 'm1' });

    const found = await messageAlerts(store, ['m1', 'm2', 'm4']);
    expect(found.get('m1')).toEqual({
      alerts: [
        { id: invalid.alertId, kind: 'invalid_message' },
        { id: violation.alertId, kind: 'cross_safety_violation' },
      ],
      events: ['invalid_message', 'cross_safety_violation', 'replaced'],
    });
    // m2 folded into m1's invalid_message alert.
    expect(found.get('m2')).toEqual({ alerts: [{ id: invalid.alertId, kind: 'invalid_message' }], events: ['invalid_message'] });
    expect(found.get('m4')).toEqual({ alerts: [], events: [] });
    expect(await messageAlerts(store, [])).toEqual(new Map());
  });
});
