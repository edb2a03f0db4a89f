/**
 * Restart: every replica killed -9 while the chains move on by hundreds of blocks with invalid messages among
 * them; on restart xmsg backfills from its cursor in bounded ranges and alerts every one of them, none twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, type Devnet, latestBlock, mine } from '../../src/devnet/devnet.js';
import type { FakeSlack } from '../fakes/slack.js';
import { type Replica, startReplicas } from '../helpers/replica.js';
import { cleanRedis, REDIS_URL, testEnv, uniquePrefix, waitFor } from '../helpers/xmsg.js';
import {
  chaosLogDir,
  cursorsExist,
  FULL,
  Rng,
  type SentMessage,
  SLACK,
  scale,
  seedFor,
  sendBatch,
  slackEnv,
  startChaosWorld,
  stream,
  waitForCoverage,
  waitForRoots,
} from './lib.js';

const A = 973;
const B = 974;
const BLOCKS_DOWN = scale(500, 2000);
const BATCHES_DOWN = scale(12, 40);
const BATCH = 5;
const MAX_BLOCK_RANGE = scale(100, 250);
const SETTLE_MS = scale(60_000, 120_000);

let devnet: Devnet;
let slack: FakeSlack;
let replicas: Replica[] = [];
const prefix = uniquePrefix('chaos-restart');
const logDir = chaosLogDir('restart');

beforeAll(async () => {
  ({ devnet, slack } = await startChaosWorld([A, B]));
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill()));
  await slack?.stop();
  await devnet?.stop();
  await cleanRedis(prefix);
});

const head = async (c: DevChain) => (await latestBlock(c)).number;

describe('chaos: restart', () => {
  it(
    `backfills ${BLOCKS_DOWN} blocks missed while every replica was down and alerts each invalid message once`,
    async () => {
      const env = testEnv(devnet, prefix, {
        ...slackEnv(slack),
        XMSG_ALERT_GROUP_WINDOW_S: '1',
        XMSG_MAX_BLOCK_RANGE: String(MAX_BLOCK_RANGE),
        XMSG_LOG_LEVEL: 'info',
      });
      replicas = await startReplicas(2, 'replica', env, logDir);
      await waitFor('every chain followed', () => cursorsExist(REDIS_URL, prefix, [A, B]));
      const a = devnet.chain(A);
      const b = devnet.chain(B);

      // Some traffic seen before the outage: it must not be alerted again after the restart.
      const before = await stream([a, b], { total: 20, batchSize: 5, invalid: new Set([3, 12]), durationMs: 1000 });
      const early = await waitForCoverage(() => replicas[0]!.baseUrl, REDIS_URL, prefix, before, 30_000);
      expect(early.unalerted).toEqual([]);
      await waitForRoots(
        slack,
        SLACK.channel,
        early.invalidAlerts.map((x) => x.id),
        20_000,
      );

      await Promise.all(replicas.map((r) => r.kill()));
      const downFrom = { a: await head(a), b: await head(b) };

      // While down: BATCHES_DOWN batches, one invalid message each, spread over BLOCKS_DOWN blocks of each chain.
      const rng = new Rng(seedFor(0x5eed));
      const whileDown: SentMessage[] = [];
      const gap = Math.floor(BLOCKS_DOWN / BATCHES_DOWN) - 1;
      for (let i = 0; i < BATCHES_DOWN; i++) {
        await mine(a, 1 + rng.int(gap));
        await mine(b, 1 + rng.int(gap));
        const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
        whileDown.push(...(await sendBatch(from, to, BATCH, new Set([rng.int(BATCH)]))));
      }
      for (const [c, from] of [
        [a, downFrom.a],
        [b, downFrom.b],
      ] as const) {
        const missed = (await head(c)) - from;
        if (missed < BigInt(BLOCKS_DOWN)) await mine(c, Number(BigInt(BLOCKS_DOWN) - missed));
        expect((await head(c)) - from).toBeGreaterThanOrEqual(BigInt(BLOCKS_DOWN));
      }

      await Promise.all(replicas.map((r) => r.start()));
      const all = [...before, ...whileDown];
      const cov = await waitForCoverage(() => replicas[1]!.baseUrl, REDIS_URL, prefix, all, SETTLE_MS);
      const context = `logs in ${logDir}`;
      expect(cov.wrong, context).toEqual([]);
      expect(cov.unalerted, context).toEqual([]);
      expect(cov.doubled, context).toEqual([]);
      expect(cov.alertedCount, context).toBe(all.filter((m) => m.invalid).length);
      // The alerts raised before the outage were not raised again.
      for (const e of early.invalidAlerts) expect(cov.invalidAlerts.find((x) => x.id === e.id)?.count).toBe(e.count);

      const alertIds = cov.invalidAlerts.map((x) => x.id);
      const roots = await waitForRoots(slack, SLACK.channel, alertIds, 30_000);
      expect([...roots.keys()].sort(), context).toEqual([...alertIds].sort());
      expect(
        [...roots].filter(([, r]) => r.length !== 1).map(([id]) => id),
        context,
      ).toEqual([]);
    },
    (FULL ? 300 : 120) * 1000,
  );
});
