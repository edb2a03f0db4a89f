/**
 * An escalation step cut short: the replica running it applied the step's change to the alert (its level moved on),
 * then died (kill -9) before the page was queued. The step's job comes back (a stalled job, or here: made due at
 * once), and whichever replica runs it must still page, exactly once: the change, applied with the step's job id as
 * its event id, answers its first result instead of refusing "already escalated".
 *
 * The cut is provoked by applying that change through the store while the replica is dead, exactly as the replica
 * leaves it when killed between the two (no hook in xmsg for tests).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { keccak256, toHex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertStore } from '../../src/alerts/store.js';
import { emitInitiating, executeMessage } from '../../src/devnet/devnet.js';
import type { Replica } from '../helpers/replica.js';
import { waitFor } from '../helpers/xmsg.js';
import { apiAlerts, rootsByAlert, SLACK, slackEnv, sleep, useChaosWorld, waitForFollowing } from './lib.js';

const A = 985;
const B = 986;

const world = useChaosWorld('chaos-esckill', [A, B]);
let replica: Replica | undefined;
let redis: Redis | undefined;
let queue: Queue | undefined;

afterAll(async () => {
  await replica?.kill();
  await queue?.close();
  redis?.disconnect();
});

describe('chaos: an escalation step cut short', () => {
  it('pages once when the replica died between the step changing the alert and queuing its page', async () => {
    replica = world.replica('replica', { ...slackEnv(world.slack), XMSG_ESCALATE_AFTER_S: '3600' });
    await replica.start();
    await waitForFollowing(world);
    const init = await emitInitiating(world.devnet.chain(A));
    await executeMessage(world.devnet.chain(B), init.identifier, keccak256(toHex(`forged ${init.msgHash}`)));
    const [root] = await waitFor('the root', () => rootsByAlert(world.slack, SLACK.channel).get('XM-1'), 30_000);

    const steps = new Queue('escalations', { connection: { url: world.redisUrl }, prefix: world.prefix });
    const connection = new Redis(world.redisUrl);
    [queue, redis] = [steps, connection];
    // The first step of XM-1, set up by its opening (change 1): due in an hour.
    const stepId = 'esc-XM-1-1-1';
    expect(await steps.getJobState(stepId)).toBe('delayed');

    await replica.kill();
    const store = new AlertStore(connection, world.prefix, 3600);
    const step = { level: 1, note: 'Not acknowledged for 3600 s: paging on-call (level 1).', eventId: stepId };
    expect(await store.change('XM-1', 'timer', 'xmsg', step)).toMatchObject({ seq: 2, nextLevel: 2 });
    const job = (await steps.getJob(stepId))!;
    await job.promote();

    await replica.start();
    const page = `<!subteam^${SLACK.oncallGroup}> Not acknowledged for 3600 s: paging on-call (level 1).`;
    const thread = () => world.slack.threadReplies(SLACK.channel, root!.ts).map((m) => m.text);
    await waitFor('the page', () => thread().includes(page), 30_000);
    expect(await steps.getJobState('esc-XM-1-2-2')).toBe('delayed');

    // And once more, as a second crash would bring it back: still one page.
    await waitFor('the step completed', async () => (await steps.getJobState(stepId)) === 'completed');
    await (await steps.getJob(stepId))!.retry('completed');
    await waitFor('the step completed again', async () => (await steps.getJobState(stepId)) === 'completed');
    await sleep(1500);
    expect(thread().filter((t) => t === page)).toHaveLength(1);
    const [alert] = await apiAlerts(replica.baseUrl);
    expect(alert).toMatchObject({ id: 'XM-1', state: 'open' });
    expect((await store.get('XM-1'))!.escalationLevel).toBe(1);
  }, 120_000);
});
