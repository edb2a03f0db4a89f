/**
 * Redis restart: the Redis of two replicas is killed -9 in the middle of a message stream and started again on
 * the same port and data directory (its own redis-server, never the shared one). Its append-only file is fsynced
 * before every reply, so whatever it acknowledged before the crash is still there; xmsg must reconnect by itself,
 * keep every replica running, and carry on without losing or doubling anything.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/devnet/random.js';
import { keysUnder } from '../../src/devnet/redis-keys.js';
import type { Replica } from '../helpers/replica.js';
import {
  FULL,
  SLACK,
  scale,
  seedFor,
  slackEnv,
  sleep,
  stream,
  useChaosWorld,
  waitForCoverage,
  waitForFollowing,
  waitForRoots,
} from './lib.js';

const A = 977;
const B = 978;
const TOTAL = scale(200, 1000);
const INVALID = scale(8, 30);
const STREAM_MS = scale(12_000, 60_000);
const REDIS_DOWN_MS = scale(3000, 10_000);

const world = useChaosWorld('chaos-redis', [A, B], { ownRedis: true });
let replicas: Replica[] = [];

/** What Redis had acknowledged: every key of the prefix with its type, plus the cursors and the alerts' counts. */
async function acknowledged(
  url: string,
): Promise<{ keys: Set<string>; cursors: Record<number, number>; alertCounts: Record<string, number> }> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys = new Set(await keysUnder(client, world.prefix));
    const cursors: Record<number, number> = {};
    for (const c of [A, B]) cursors[c] = Number((await client.hget(`${world.prefix}:cursor:${c}`, 'number')) ?? -1);
    const alertCounts: Record<string, number> = {};
    for (const id of await client.zrange(`${world.prefix}:alerts:all`, '0', '-1'))
      alertCounts[id] = Number(await client.hget(`${world.prefix}:alert:${id}`, 'count'));
    return { keys, cursors, alertCounts };
  } finally {
    client.disconnect();
  }
}

describe('chaos: Redis restart', () => {
  it(
    'reconnects after its Redis is killed -9 and restarted mid-stream, losing nothing Redis had acknowledged',
    async () => {
      const own = world.ownRedis;
      replicas = await world.startReplicas(2, 'replica', { ...slackEnv(world.slack), XMSG_ALERT_GROUP_WINDOW_S: '1' });
      await waitForFollowing(world);

      const rng = new Rng(seedFor(0x4ed15));
      const invalid = new Set(rng.sample(TOTAL, INVALID));
      let before: Awaited<ReturnType<typeof acknowledged>> | undefined;
      const started = Date.now();
      const outage = (async () => {
        await sleep(rng.between(0.3, 0.5) * STREAM_MS);
        before = await acknowledged(own.url);
        await own.kill();
        await sleep(REDIS_DOWN_MS);
        await own.start();
        return Date.now() - started;
      })();
      const sent = await stream([world.devnet.chain(A), world.devnet.chain(B)], {
        total: TOTAL,
        batchSize: 10,
        invalid,
        durationMs: STREAM_MS,
      });
      const backAt = await outage;
      const context = `Redis down ${REDIS_DOWN_MS} ms until ${backAt} ms into the stream; logs in ${world.logDir}`;

      const cov = await waitForCoverage(() => replicas[0]!.baseUrl, own.url, world.prefix, sent, scale(60_000, 120_000));
      expect(cov.wrong, context).toEqual([]);
      expect(cov.unalerted, context).toEqual([]);
      expect(cov.doubled, context).toEqual([]);
      expect(cov.alertedCount, context).toBe(INVALID);

      // Nothing Redis had acknowledged before the crash is gone, and nothing went backwards.
      const after = await acknowledged(own.url);
      const lostKeys = [...before!.keys].filter((k) => !after.keys.has(k) && !k.includes(':lease:') && !isShortLived(k));
      expect(lostKeys, context).toEqual([]);
      for (const c of [A, B]) expect(after.cursors[c]!, `cursor of ${c}`).toBeGreaterThanOrEqual(before!.cursors[c]!);
      for (const [id, count] of Object.entries(before!.alertCounts)) expect(after.alertCounts[id], id).toBeGreaterThanOrEqual(count);

      const alertIds = cov.invalidAlerts.map((x) => x.id);
      const roots = await waitForRoots(world.slack, SLACK.channel, alertIds, 30_000);
      expect([...roots.keys()].sort(), context).toEqual([...alertIds].sort());
      expect(
        [...roots].filter(([, r]) => r.length !== 1).map(([id]) => id),
        context,
      ).toEqual([]);

      for (const r of replicas) {
        expect(r.alive, `${r.name} still running (${context})`).toBe(true);
        expect((await fetch(`${r.baseUrl}/readyz`)).status, `${r.name} ready`).toBe(200);
      }
    },
    (FULL ? 300 : 120) * 1000,
  );
});

/** Keys that xmsg or BullMQ delete in normal operation (job locks and completed jobs, queue markers, ...). */
function isShortLived(key: string): boolean {
  const rest = key.slice(world.prefix.length + 1);
  // BullMQ: "<queue>:<jobId>[:lock|:logs]", ":marker", ":stalled-check", ":limiter", ":active", ":wait", ...
  if (/^(check|events|escalations|silences|chat-slack):/.test(rest)) return true;
  return false;
}
