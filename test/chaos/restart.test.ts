/**
 * Restart: every replica killed -9 while the chains move on by hundreds of blocks with invalid messages among
 * them; on restart xmsg backfills from its cursor in bounded ranges and alerts every one of them, none twice.
 */
import { describe, expect, it } from 'vitest';
import { type DevChain, latestBlock, mine } from '../../src/devnet/devnet.js';
import { Rng } from '../../src/devnet/random.js';
import type { Replica } from '../helpers/replica.js';
import {
  FULL,
  type SentMessage,
  SLACK,
  scale,
  seedFor,
  sendBatch,
  slackEnv,
  stream,
  useChaosWorld,
  waitForCoverage,
  waitForFollowing,
  waitForRoots,
} from './lib.js';

const A = 973;
const B = 974;
const BLOCKS_DOWN = scale(500, 2000);
const BATCHES_DOWN = scale(12, 40);
const BATCH = 5;
const MAX_BLOCK_RANGE = scale(100, 250);
const SETTLE_MS = scale(60_000, 120_000);

const world = useChaosWorld('chaos-restart', [A, B]);
let replicas: Replica[] = [];

const head = async (c: DevChain) => (await latestBlock(c)).number;

describe('chaos: restart', () => {
  it(
    `backfills ${BLOCKS_DOWN} blocks missed while every replica was down and alerts each invalid message once`,
    async () => {
      replicas = await world.startReplicas(2, 'replica', {
        ...slackEnv(world.slack),
        XMSG_ALERT_GROUP_WINDOW_S: '1',
        XMSG_MAX_BLOCK_RANGE: String(MAX_BLOCK_RANGE),
      });
      await waitForFollowing(world);
      const a = world.devnet.chain(A);
      const b = world.devnet.chain(B);

      // Some traffic seen before the outage: it must not be alerted again after the restart.
      const before = await stream([a, b], { total: 20, batchSize: 5, invalid: new Set([3, 12]), durationMs: 1000 });
      const early = await waitForCoverage(() => replicas[0]!.baseUrl, world.redisUrl, world.prefix, before, 30_000);
      expect(early.unalerted).toEqual([]);
      await waitForRoots(
        world.slack,
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
      const cov = await waitForCoverage(() => replicas[1]!.baseUrl, world.redisUrl, world.prefix, all, SETTLE_MS);
      const context = `logs in ${world.logDir}`;
      expect(cov.wrong, context).toEqual([]);
      expect(cov.unalerted, context).toEqual([]);
      expect(cov.doubled, context).toEqual([]);
      expect(cov.alertedCount, context).toBe(all.filter((m) => m.invalid).length);
      // The alerts raised before the outage were not raised again.
      for (const e of early.invalidAlerts) expect(cov.invalidAlerts.find((x) => x.id === e.id)?.count).toBe(e.count);

      const alertIds = cov.invalidAlerts.map((x) => x.id);
      const roots = await waitForRoots(world.slack, SLACK.channel, alertIds, 30_000);
      expect([...roots.keys()].sort(), context).toEqual([...alertIds].sort());
      expect(
        [...roots].filter(([, r]) => r.length !== 1).map(([id]) => id),
        context,
      ).toEqual([]);
    },
    (FULL ? 300 : 120) * 1000,
  );
});
