/**
 * Redundancy: three replicas as OS processes on one Redis, one of them killed with SIGKILL at seeded random
 * moments of a message stream and restarted each time. Nothing may be lost or doubled: every message tracked once
 * with the right status, every invalid one in exactly one alert, exactly one Slack root per alert.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/devnet/random.js';
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

const A = 971;
const B = 972;
const TOTAL = scale(400, 2000);
const INVALID = scale(10, 50);
const KILLS = scale(3, 10);
const BATCH = scale(10, 20);
const STREAM_MS = scale(12_000, 100_000);
// A job that was running in a killed replica comes back when its BullMQ lock expires and a stalled-job check
// runs (30 s each by default): up to a minute after the kill.
const SETTLE_MS = scale(75_000, 120_000);

const world = useChaosWorld('chaos-redundancy', [A, B]);
let replicas: Replica[] = [];

describe('chaos: redundancy', () => {
  it(
    `loses nothing and doubles nothing while replicas are killed -9 (${TOTAL} messages, ${INVALID} invalid, ${KILLS} kills)`,
    async () => {
      replicas = await world.startReplicas(3, 'replica', { ...slackEnv(world.slack), XMSG_ALERT_GROUP_WINDOW_S: '1' });
      await waitForFollowing(world);

      const rng = new Rng(seedFor(0xc0ffee));
      const invalid = new Set(rng.sample(TOTAL, INVALID));
      const killAt = Array.from({ length: KILLS }, () => rng.between(0.05, 0.85) * STREAM_MS).sort((a, b) => a - b);
      const kills: string[] = [];
      const started = Date.now();

      const chaos = (async () => {
        for (const at of killAt) {
          await sleep(Math.max(0, started + at - Date.now()));
          const victim = rng.pick(replicas);
          await victim.kill();
          kills.push(`${victim.name} at ${Date.now() - started} ms`);
          await sleep(rng.between(0, 1000));
          await victim.start();
        }
      })();
      const sent = await stream([world.devnet.chain(A), world.devnet.chain(B)], {
        total: TOTAL,
        batchSize: BATCH,
        invalid,
        durationMs: STREAM_MS,
      });
      await chaos;
      expect(kills).toHaveLength(KILLS);

      const cov = await waitForCoverage(() => replicas[0]!.baseUrl, world.redisUrl, world.prefix, sent, SETTLE_MS);
      const context = `kills: ${kills.join('; ')}; logs in ${world.logDir}`;
      expect(cov.wrong, context).toEqual([]);
      expect(cov.unalerted, context).toEqual([]);
      expect(cov.doubled, context).toEqual([]);
      expect(cov.alertedCount, context).toBe(INVALID);

      const alertIds = cov.invalidAlerts.map((a) => a.id);
      const roots = await waitForRoots(world.slack, SLACK.channel, alertIds, SETTLE_MS / 2);
      const missing = alertIds.filter((id) => !roots.has(id));
      const doubled = [...roots].filter(([, r]) => r.length > 1).map(([id, r]) => `${id} x${r.length}`);
      expect(missing, context).toEqual([]);
      expect(doubled, context).toEqual([]);
      expect([...roots.keys()].sort(), context).toEqual([...alertIds].sort());

      for (const r of replicas) expect(r.alive, `${r.name} still running`).toBe(true);
      console.info(`redundancy: ${TOTAL} messages, ${INVALID} invalid in ${alertIds.length} alerts; ${context}`);
    },
    (FULL ? 420 : 150) * 1000,
  );
});
