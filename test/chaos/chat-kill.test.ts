/**
 * The worst moment for the chat outbox: Slack has posted the root, the replica that asked is killed -9 before it
 * hears back (and before it records the root's ts). After the restart, the delivery is retried: the alert must
 * still have exactly one root: the retry finds the root by its metadata in the channel history and adopts it.
 */
import { Redis } from 'ioredis';
import { keccak256, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage, mine } from '../../src/devnet/devnet.js';
import type { Replica } from '../helpers/replica.js';
import { cleanRedis, waitFor } from '../helpers/xmsg.js';
import {
  apiAlerts,
  FULL,
  type HoldingProxy,
  rootsByAlert,
  SLACK,
  slackEnv,
  startHoldingProxy,
  useChaosWorld,
  waitForFollowing,
} from './lib.js';

const A = 983;
const B = 984;

const world = useChaosWorld('chaos-chatkill', [A, B]);
let proxy: HoldingProxy;
let replica: Replica | undefined;

beforeAll(async () => {
  proxy = await startHoldingProxy(world.slack.url);
});

afterAll(async () => {
  await replica?.kill();
  await proxy?.stop();
});

/** A replica whose Slack calls go through the holding proxy, following every chain. */
async function startReplica(name: string): Promise<Replica> {
  const r = world.replica(name, { ...slackEnv(world.slack), SLACK_API_URL: proxy.apiUrl });
  await r.start();
  await waitForFollowing(world);
  return r;
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref()),
  ]);

describe('chaos: killed while posting to Slack', () => {
  // Slack has no idempotency key: roots carry metadata naming the alert, each attempt to post one is recorded first,
  // and a retried attempt looks for the root in the channel (conversations.history) before posting. Long (a
  // stalled-job recovery, 30-60 s): in `npm run chaos` only; test/slack.test.ts has a fast form (a lost answer and
  // the next replica taking over).
  it.runIf(FULL)(
    'keeps one root per alert when the replica dies after Slack posted the root and before it heard back',
    async () => {
      replica = await startReplica('replica');

      const reached = proxy.holdNext('chat.postMessage', 'answer');
      const init = await emitInitiating(world.devnet.chain(A));
      await executeMessage(world.devnet.chain(B), init.identifier, keccak256(toHex(`forged ${init.msgHash}`)));
      await reached;
      expect(world.slack.channelMessages(SLACK.channel)).toHaveLength(1);
      await replica.kill();
      await proxy.release();

      await replica.start();
      const [alert] = await apiAlerts(replica.baseUrl);
      expect(alert?.id).toBe('XM-1');
      // The delivery the dead replica was running comes back once its job lock expires (10 s for the chat queues, plus
      // a stalled-job check), and ends when the root's ref is stored.
      const redis = new Redis(world.redisUrl);
      try {
        await waitFor('the delivery retried', async () => (await redis.exists(`${world.prefix}:chat:slack:XM-1`)) === 1, 90_000).catch(
          () => undefined,
        );
      } finally {
        redis.disconnect();
      }
      const roots = rootsByAlert(world.slack, SLACK.channel);
      expect([...roots.keys()], `logs in ${world.logDir}`).toEqual(['XM-1']);
      expect(roots.get('XM-1'), `logs in ${world.logDir}`).toHaveLength(1);
      expect(world.slack.callsOf('conversations.history').length).toBeGreaterThanOrEqual(1);
    },
    150_000,
  );

  // Long (two stalled-job recoveries, up to a minute each): in `npm run chaos` only.
  it.runIf(FULL)(
    'still delivers a root whose delivery was cut short by kill -9 twice in a row',
    async () => {
      await replica?.kill();
      await cleanRedis(world.prefix);
      world.slack.reset();
      // A fresh replica starts at the head block, which holds the previous test's message: start past it.
      for (const c of world.devnet.chains) await mine(c);
      replica = await startReplica('replica-twice');

      const first = proxy.holdNext('chat.postMessage', 'call');
      const init = await emitInitiating(world.devnet.chain(A));
      await executeMessage(world.devnet.chain(B), init.identifier, keccak256(toHex(`forged ${init.msgHash}`)));
      await within(first, 30_000, 'the first delivery');
      const second = proxy.holdNext('chat.postMessage', 'call');
      await replica.kill();
      await proxy.release(); // the held call's caller is dead: dropped, it never reaches Slack
      await replica.start();
      await within(second, 120_000, 'the delivery retried after the first crash');
      await replica.kill();
      await proxy.release();
      // Neither cut-short attempt reached Slack (the next replica may deliver the root as soon as it is up).
      expect(world.slack.channelMessages(SLACK.channel)).toHaveLength(0);
      await replica.start();
      const root = await waitFor('the root, after two crashes', () => rootsByAlert(world.slack, SLACK.channel).get('XM-1'), 120_000).catch(
        () => undefined,
      );
      expect(root, `logs in ${world.logDir}`).toHaveLength(1);
    },
    420_000,
  );
});
