/**
 * RPC faults: the devnet's proxy in front of one chain fails 30% of requests and holds some for 2 s. xmsg must
 * lose nothing and must not call the chain unhealthy while it still makes progress; when the node really goes
 * away there is one chain_unhealthy alert, which resolves itself when the node comes back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/devnet/random.js';
import { metricValue, type RunningXmsg, scrape, waitFor } from '../helpers/xmsg.js';
import {
  apiAlerts,
  FULL,
  rootsByAlert,
  SLACK,
  scale,
  seedFor,
  slackEnv,
  stream,
  useChaosWorld,
  waitForCoverage,
  waitForRoots,
} from './lib.js';

const A = 975;
const B = 976;
const TOTAL = scale(150, 1000);
const INVALID = scale(6, 30);
const STREAM_MS = scale(12_000, 60_000);

const world = useChaosWorld('chaos-rpc', [A, B]);
let x: RunningXmsg | undefined;

afterAll(() => {
  world.devnet.chain(B).proxy.setFaults({});
});

describe('chaos: RPC faults', () => {
  it(
    'loses nothing through a flaky node, stays healthy while it progresses, and alerts (then resolves) when it is gone',
    async () => {
      // The RPC client's retries and timeout as in production (3, 10 s), the retries faster so the test is short.
      x = await world.startXmsg({
        ...slackEnv(world.slack),
        XMSG_RPC_RETRIES: '3',
        XMSG_RPC_RETRY_DELAY_MS: '100',
        XMSG_UNHEALTHY_AFTER_FAILURES: '3',
        XMSG_ALERT_GROUP_WINDOW_S: '1',
      });
      const a = world.devnet.chain(A);
      const b = world.devnet.chain(B);
      const rng = new Rng(seedFor(0xfa17));

      // Phase 1: flaky. Both directions, so B is both followed (executing) and looked up (source) through the faults.
      b.proxy.setFaults({ failRate: 0.3, stallRate: 0.1, stallMs: 2000, seed: seedFor(0xfa17) });
      const cursorB = async () => Number((await x!.app.redis.hget(x!.app.store.keys.cursor(B), 'number')) ?? -1);
      const cursorAtStart = await cursorB();
      const sent = await stream([a, b], {
        total: TOTAL,
        batchSize: 10,
        invalid: new Set(rng.sample(TOTAL, INVALID)),
        durationMs: STREAM_MS,
      });
      const cov = await waitForCoverage(() => x!.baseUrl, world.redisUrl, world.prefix, sent, scale(60_000, 120_000));
      const metrics = await scrape(x.baseUrl);
      b.proxy.setFaults({});

      expect(cov.wrong).toEqual([]);
      expect(cov.unalerted).toEqual([]);
      expect(cov.doubled).toEqual([]);
      expect(cov.alertedCount).toBe(INVALID);
      expect(await cursorB()).toBeGreaterThan(cursorAtStart);
      // The faults did happen, and xmsg rode them out without calling the chain unhealthy.
      expect(metricValue(metrics, `xmsg_rpc_errors_total{chain_id="${B}"}`)).toBeGreaterThan(0);
      expect(
        x.events.filter((e) => e.type === 'chain_unhealthy'),
        'no chain_unhealthy while the flaky chain progresses',
      ).toEqual([]);
      expect((await apiAlerts(x.baseUrl)).filter((al) => al.kind === 'chain_unhealthy')).toEqual([]);
      expect(await x.app.redis.hget(x.app.store.keys.health(B), 'healthy')).not.toBe('0');

      // Phase 2: the node is gone. Messages keep being made on the chain; the proxy refuses every connection.
      b.proxy.setFaults({ down: true });
      const unhealthy = await waitFor(
        'a chain_unhealthy alert',
        async () => (await apiAlerts(x!.baseUrl)).find((al) => al.kind === 'chain_unhealthy' && al.chainId === B),
        60_000,
      );
      expect(unhealthy.state).toBe('open');
      const duringOutage = await stream([a, b], { total: 20, batchSize: 5, invalid: new Set([2, 7, 17]), durationMs: 1000 });
      const [root] = (await waitForRoots(world.slack, SLACK.channel, [unhealthy.id], 45_000)).get(unhealthy.id) ?? [];
      expect(root?.text).toContain(`Chain ${B}`);

      // Phase 3: back. The alert resolves itself, in the thread, and what happened meanwhile is caught up.
      b.proxy.setFaults({});
      const resolved = await waitFor(
        'the chain_unhealthy alert resolved',
        async () => (await apiAlerts(x!.baseUrl)).find((al) => al.id === unhealthy.id && al.state === 'resolved'),
        60_000,
      );
      expect(resolved.resolvedBy).toBe('xmsg');
      await waitFor(
        'the recovery in the thread',
        () => world.slack.threadReplies(SLACK.channel, root!.ts).some((m) => m.text.includes('recovered')),
        45_000,
      );
      const after = await waitForCoverage(() => x!.baseUrl, world.redisUrl, world.prefix, [...sent, ...duringOutage], 60_000);
      expect(after.wrong).toEqual([]);
      expect(after.unalerted).toEqual([]);
      expect(after.doubled).toEqual([]);
      const unhealthyAlerts = (await apiAlerts(x.baseUrl)).filter((al) => al.kind === 'chain_unhealthy');
      expect(unhealthyAlerts, JSON.stringify(x.events.filter((e) => e.type.startsWith('chain_')))).toHaveLength(1);
      expect([...rootsByAlert(world.slack, SLACK.channel)].filter(([, r]) => r.length !== 1)).toEqual([]);
    },
    (FULL ? 300 : 120) * 1000,
  );
});
