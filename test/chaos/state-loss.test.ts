/**
 * State loss: the Redis of two running replicas is killed and comes back empty (a redis-server of the test's own,
 * without persistence, as a Redis restarted without AOF or a failover to a replica that never synced). Nothing in
 * Redis can tell; the deployment marker each replica holds in memory does (docs/ARCHITECTURE.md §3). Exactly one
 * `state_lost` alert must reach Slack, saying from which block each chain is re-scanned; the chains are re-scanned
 * from the cursors the replicas remembered, so a message sent while Redis was away is still checked; and a button of
 * the earlier XM-1, pressed once a new XM-1 exists, changes nothing and says why.
 */
import { Redis } from 'ioredis';
import { keccak256, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage, headNumber, mine } from '../../src/devnet/devnet.js';
import { type RedisServer, startRedisServer } from '../../src/devnet/redis-server.js';
import { type FakeMessage, sendBlockAction } from '../fakes/slack.js';
import { waitFor, waitForMessage } from '../helpers/xmsg.js';
import { apiAlerts, SLACK, slackEnv, sleep, useChaosWorld } from './lib.js';

const A = 991;
const B = 992;

const world = useChaosWorld('chaos-state-loss', [A, B]);
let lossy: RedisServer;

beforeAll(async () => {
  lossy = await startRedisServer({ persistence: 'none' });
});
// Runs before the world's own clean-up: the replicas stop while their Redis still answers.
afterAll(async () => {
  await world.stopAllXmsg();
  await lossy?.stop();
});

const roots = () => world.slack.channelMessages(SLACK.channel);
const alertIdOf = (m: FakeMessage) => /\b(XM-\d+) /.exec(m.text)?.[1];
const rootsOf = (alertId: string, title: RegExp) => roots().filter((m) => alertIdOf(m) === alertId && title.test(m.text));
const thread = (m: FakeMessage) => world.slack.threadReplies(SLACK.channel, m.ts).map((r) => r.text);
const STATE_LOST = /lost its state in Redis/;
const INVALID = /Invalid executing message on chain/;

/** A message on B executing a forged msgHash for a fresh initiating log on A. */
async function invalidMessage() {
  const init = await emitInitiating(world.devnet.chain(A));
  return executeMessage(world.devnet.chain(B), init.identifier, keccak256(toHex(`forged ${init.msgHash}`)));
}

async function redisValues(url: string, keys: string[]): Promise<(string | null)[]> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await Promise.all(keys.map((k) => (k.includes(':cursor:') ? client.hget(k, 'number') : client.get(k))));
  } finally {
    client.disconnect();
  }
}

describe('chaos: Redis loses its state', () => {
  it('raises one state_lost alert, re-scans from the remembered cursors, and old buttons change nothing', async () => {
    const env = { ...slackEnv(world.slack), XMSG_CONSOLE: '1', REDIS_URL: lossy.url, XMSG_ALERT_GROUP_WINDOW_S: '1' };
    const [x1] = [await world.startXmsg(env), await world.startXmsg(env)];
    const events = `${x1!.baseUrl}/slack/events`;

    // Before the loss: XM-1 on Slack, with buttons carrying the deployment it was posted under.
    const first = await invalidMessage();
    const [oldRoot] = await waitFor('XM-1 on Slack', () => {
      const found = rootsOf('XM-1', INVALID);
      return found.length ? found : undefined;
    });
    const [oldDeployment] = await redisValues(lossy.url, [`${world.prefix}:deployment`]);
    expect(oldDeployment).toMatch(/^[0-9a-f]{12}\|\d+$/);
    const oldId = oldDeployment!.split('|')[0]!;
    expect(JSON.stringify(oldRoot!.blocks)).toContain(`"value":"XM-1|${oldId}"`);
    // The console shows each alert with the deployment its buttons send back.
    const shown = await waitFor('XM-1 in the console', async () => {
      const state = (await (await fetch(`${x1!.baseUrl}/console/state`)).json()) as {
        alerts: Array<{ alert: { id: string }; deployment?: string }>;
      };
      return state.alerts.find((t) => t.alert.id === 'XM-1');
    });
    expect(shown.deployment).toBe(oldId);
    // Both chains followed to their heads, and both replicas past another poll, so each remembers both cursors.
    const heads: Record<number, bigint> = { [A]: await headNumber(world.devnet.chain(A)), [B]: await headNumber(world.devnet.chain(B)) };
    await waitFor('both cursors at the head', async () => {
      const [a, b] = await redisValues(lossy.url, [`${world.prefix}:cursor:${A}`, `${world.prefix}:cursor:${B}`]);
      return a === String(heads[A]) && b === String(heads[B]);
    });
    await sleep(1000);

    // Redis goes away; a message is sent meanwhile, buried under more blocks; Redis comes back empty.
    await lossy.kill();
    const during = await invalidMessage();
    expect(during.blockNumber).toBeGreaterThan(first.blockNumber);
    for (const c of [A, B]) await mine(world.devnet.chain(c), 5);
    await lossy.start();

    // The message sent while Redis was away is checked, and alerted.
    const checked = await waitForMessage(x1!.baseUrl, during.msgHash, { status: 'invalid' }, 30_000);
    expect(checked.executing.blockNumber).toBe(String(during.blockNumber));

    // One state_lost alert, whose thread says where each chain is re-scanned from: the cursors remembered.
    const [lostRoot] = await waitFor(
      'the state_lost alert on Slack',
      () => {
        const found = roots().filter((m) => STATE_LOST.test(m.text));
        return found.length ? found : undefined;
      },
      30_000,
    );
    // The chat outbox may send both notes in one reply: each chain's line is looked for in the whole thread.
    const rescans = await waitFor(
      'both chains reported re-scanned',
      () => {
        const lines = thread(lostRoot!)
          .flatMap((t) => t.split('\n'))
          .filter((t) => /is re-scanned from block/.test(t));
        return lines.length === 2 ? lines : undefined;
      },
      30_000,
    );
    for (const c of [A, B])
      expect(rescans, `chain ${c}`).toContainEqual(expect.stringContaining(`Chain ${c} is re-scanned from block ${heads[c]! + 1n},`));
    expect(lostRoot!.text).toMatch(/CRITICAL/);
    expect(JSON.stringify(lostRoot!.blocks)).toContain('Redis no longer holds deployment');
    const newRoots = await waitFor('the new invalid_message alert on Slack', () => {
      const found = roots().filter((m) => m.ts !== oldRoot!.ts && INVALID.test(m.text));
      return found.length ? found : undefined;
    });

    // Every replica noticed the loss, and still there is one state_lost alert, on Slack and in the API.
    await sleep(3000);
    expect(roots().filter((m) => STATE_LOST.test(m.text))).toHaveLength(1);
    const alerts = await apiAlerts(x1!.baseUrl);
    expect(alerts.filter((a) => a.kind === 'state_lost')).toHaveLength(1);
    // Alert numbers restarted: a new XM-1 exists.
    const newXm1 = alerts.find((a) => a.id === 'XM-1');
    expect(newXm1?.state).toBe('open');
    expect([...newRoots, lostRoot!].map(alertIdOf)).toContain('XM-1');

    // The old XM-1's Acknowledge button: answered, and nothing changed.
    const stale = await sendBlockAction(events, SLACK.secret, {
      userId: SLACK.admin,
      userName: 'alice',
      channelId: SLACK.channel,
      messageTs: oldRoot!.ts,
      actionId: 'xmsg_ack',
    });
    expect(stale.status).toBe(200);
    const [answer] = await waitFor('the answer to the old button', () => {
      const posted = world.slack.responsesFor(stale.responseUrl);
      return posted.length ? posted : undefined;
    });
    expect(answer!.body.text).toBe('XM-1 belongs to an earlier state of xmsg (Redis was reset); nothing changed.');
    expect(answer!.body.response_type).toBe('ephemeral');
    await sleep(500);
    expect((await apiAlerts(x1!.baseUrl)).find((a) => a.id === 'XM-1')?.state).toBe('open');

    // The same from a console page still showing the old XM-1; a deployment that is not one is refused as bad input.
    const consolePress = (body: object) =>
      fetch(`${x1!.baseUrl}/console/button`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const fromConsole = await consolePress({ name: 'bob', alertId: 'XM-1', button: 'resolve', deployment: oldId });
    expect(await fromConsole.json()).toEqual({
      ok: false,
      text: 'XM-1 belongs to an earlier state of xmsg (Redis was reset); nothing changed.',
    });
    const garbled = await consolePress({ name: 'bob', alertId: 'XM-1', button: 'resolve', deployment: 'XM-1|x' });
    expect(garbled.status).toBe(400);
    expect(await garbled.json()).toEqual({ error: 'deployment must be a deployment id like 3f9c0a1b2c4d' });
    expect((await apiAlerts(x1!.baseUrl)).find((a) => a.id === 'XM-1')?.state).toBe('open');

    // The new XM-1's own button acts.
    const newXm1Root = roots().find((m) => m.ts !== oldRoot!.ts && alertIdOf(m) === 'XM-1')!;
    const fresh = await sendBlockAction(events, SLACK.secret, {
      userId: SLACK.admin,
      userName: 'alice',
      channelId: SLACK.channel,
      messageTs: newXm1Root.ts,
      actionId: 'xmsg_ack',
    });
    expect(fresh.status).toBe(200);
    await waitFor(
      'the new XM-1 acknowledged',
      async () => (await apiAlerts(x1!.baseUrl)).find((a) => a.id === 'XM-1')?.state === 'acknowledged',
    );
  }, 120_000);
});
