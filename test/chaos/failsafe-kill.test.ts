/**
 * The failsafe's confirmation cut short: the replica confirming it killed (kill -9) between the confirming Lua change
 * and the queueing of the calls, or in the middle of a call. Whatever it left, a replica finishes it, and each
 * endpoint still gets exactly one admin_setFailsafeEnabled(true).
 *
 * The first test kills the confirming one of two replicas about 40 ms after its confirmation: where that lands is up
 * to timing. The second provokes the narrowest cut deterministically, with no hook in xmsg for tests: while the
 * replica is dead, the confirmation's Lua change is made with xmsg's own script, exactly as a replica leaves it when
 * killed right after that change (the request confirmed and in the dispatch set, no call queued); then a replica
 * starts. The third leaves what a replica killed in the middle of a call leaves after recording its result and before
 * saying it: the result is said once, and the endpoint is not called again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { failsafeKeys } from '../../src/alerts/failsafe.js';
import { type FailsafeAdminStandIn, startFailsafeAdminStandIn } from '../../src/devnet/failsafe-admin-stand-in.js';
import { defineScript, loadScripts } from '../../src/store/scripts.js';
import type { Replica } from '../helpers/replica.js';
import { waitFor } from '../helpers/xmsg.js';
import { SLACK, slackEnv, sleep, useChaosWorld } from './lib.js';

const A = 987;
const B = 988;
const world = useChaosWorld('chaos-failsafe', [A, B], { scope: 'test' });
let admins: FailsafeAdminStandIn[] = [];
let replicas: Replica[] = [];
let redis: Redis | undefined;
let calls: Queue | undefined;

afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.kill()));
  await Promise.all(admins.splice(0).map((a) => a.close()));
  await calls?.close();
  redis?.disconnect();
  [calls, redis] = [undefined, undefined];
});

/** Two loopback admin endpoints sharing a JWT secret, and the replicas' environment pointing at them. */
async function failsafeEnv(): Promise<Record<string, string>> {
  const secret = randomBytes(32);
  const dir = await mkdtemp(join(tmpdir(), 'xmsg-failsafe-'));
  await writeFile(join(dir, 'jwt.hex'), secret.toString('hex'));
  admins = await Promise.all([startFailsafeAdminStandIn({ secret }), startFailsafeAdminStandIn({ secret })]);
  return {
    ...slackEnv(world.slack),
    XMSG_CONSOLE: '1',
    XMSG_FAILSAFE_RPCS: admins.map((a) => a.url).join(','),
    XMSG_FAILSAFE_JWT_SECRET: join(dir, 'jwt.hex'),
    XMSG_FAILSAFE_POLL_MS: '300',
    XMSG_FAILSAFE_RETRY_MS: '300',
  };
}

const consoleSay = (replica: Replica, name: string, text: string) =>
  fetch(`${replica.baseUrl}/console/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, text }),
  });

const say = async (replica: Replica, name: string, text: string) =>
  ((await (await consoleSay(replica, name, text)).json()) as { text: string }).text;

const texts = () => world.slack.channelMessages(SLACK.channel).map((m) => m.text);
/** An endpoint's label in xmsg's messages. */
const port = (a: FailsafeAdminStandIn) => `127.0.0.1:${new URL(a.url).port}`;

const waitForBothEnabledAndReported = () =>
  waitFor(
    'both endpoints enabled and reported',
    () => admins.every((a) => a.enabled && texts().some((t) => t.includes(`on ${port(a)}: enabled`))),
    60_000,
  );

describe('chaos: the replica confirming the failsafe killed', () => {
  it('still calls each endpoint exactly once', async () => {
    const env = await failsafeEnv();
    replicas = [world.replica('first', env), world.replica('second', env)];
    await Promise.all(replicas.map((r) => r.start()));
    const [first, second] = replicas as [Replica, Replica];

    expect(await say(first, 'alice', 'failsafe on drill')).toContain('requested');
    // The confirmation, and the confirming replica killed as soon as its answer is under way (not awaited).
    const confirming = consoleSay(second, 'bob', 'failsafe on confirmed').catch(() => undefined);
    await sleep(40);
    await second.kill();
    await confirming;

    await waitForBothEnabledAndReported();
    // Long enough for a stalled call to be taken over and any second dispatch to run.
    await sleep(3000);
    expect(admins.map((a) => a.sets)).toEqual([[true], [true]]);
    for (const a of admins) expect(texts().filter((t) => t.includes(`on ${port(a)}: enabled`))).toHaveLength(1);
  }, 120_000);
});

/** xmsg's own vote script (src/alerts/lua/failsafeVote-5.lua), the one Failsafe.vote runs. */
const failsafeVote = defineScript(new URL('../../src/alerts/lua/failsafeVote-5.lua', import.meta.url), {
  keys: ['pending', 'request', 'seq', 'dispatch', 'expired'],
  args: ['op', 'action', 'now', 'windowMs', 'voter', 'voterName', 'reason', 'alertId', 'readPending', 'requestId', 'retentionS'],
  reply: (raw) => String(raw),
});

/**
 * A console user's confirmation of the pending "on" request as Failsafe.vote makes it (its one Lua change), and
 * nothing after it: no "confirmed" told, no call queued, as the replica leaves it when killed right then.
 */
async function confirmOnly(connection: Redis, name: string): Promise<string> {
  const keys = failsafeKeys(world.prefix);
  const pending = await connection.get(keys.pending('on'));
  if (!pending) throw new Error('no pending failsafe on request to confirm');
  const reply = await failsafeVote.run(connection, {
    pending: keys.pending('on'),
    request: keys.request(pending),
    seq: keys.seq,
    dispatch: keys.dispatch,
    expired: keys.expired('on'),
    op: 'vote',
    action: 'on',
    now: Date.now(),
    // The replicas' defaults (XMSG_FAILSAFE_CONFIRM_S, XMSG_ALERT_RETENTION_S); a confirmation reads neither.
    windowMs: 600_000,
    voter: `console:${name}`,
    voterName: `${name} (console:${name})`,
    reason: 'confirmed',
    alertId: '',
    readPending: pending,
    requestId: pending,
    retentionS: 2_592_000,
  });
  expect(reply).toBe(`confirmed|${pending}`);
  return pending;
}

/** One replica, alice's request for the failsafe made through its console, then the replica killed -9. */
async function requestedThenKilled(): Promise<Replica> {
  const replica = world.replica('replica', await failsafeEnv());
  replicas = [replica];
  await replica.start();
  expect(await say(replica, 'alice', 'failsafe on drill')).toContain('requested (FS-1)');
  await replica.kill();
  return replica;
}

describe('chaos: a confirmation cut between its Lua change and the queueing of its calls', () => {
  it('calls each endpoint exactly once from the dispatch set, also after one more restart', async () => {
    const replica = await requestedThenKilled();

    const connection = new Redis(world.redisUrl);
    const queue = new Queue('failsafe', { connection: { url: world.redisUrl }, prefix: world.prefix });
    [redis, calls] = [connection, queue];
    loadScripts(connection);
    const keys = failsafeKeys(world.prefix);
    const id = await confirmOnly(connection, 'bob');
    // Exactly the window: confirmed and waiting in the dispatch set, not one call queued, nothing called.
    expect(await connection.hget(keys.request(id), 'status')).toBe('confirmed');
    expect(await connection.zrange(keys.dispatch, '0', '-1')).toEqual([id]);
    expect(await queue.count()).toBe(0);
    expect(admins.map((a) => a.sets)).toEqual([[], []]);

    await replica.start();
    await waitForBothEnabledAndReported();
    // Several watches (every 300 ms): any second dispatch would have run.
    await sleep(2000);
    await expectEachEndpointSetOnce(connection, id, replica);
    // The confirmation the dead replica never said: said by the one that queued the calls, once.
    expect(texts().filter((t) => t.includes(`(${id}) confirmed by bob`))).toHaveLength(1);

    // Restarted once more, with both calls back as a second crash would bring them (run again): still once.
    await replica.kill();
    const jobIds = admins.map((_, endpoint) => `failsafe-${id}-${endpoint}`);
    for (const jobId of jobIds) await (await queue.getJob(jobId))!.retry('completed');
    await replica.start();
    await waitFor('the calls run again', async () =>
      (await Promise.all(jobIds.map((j) => queue.getJobState(j)))).every((s) => s === 'completed'),
    );
    await sleep(2000);
    await expectEachEndpointSetOnce(connection, id, replica);
  }, 120_000);
});

describe('chaos: a call cut after its result was recorded and before it was said', () => {
  it('says each endpoint enabled once, without calling it again', async () => {
    const replica = await requestedThenKilled();

    const connection = new Redis(world.redisUrl);
    redis = connection;
    loadScripts(connection);
    const keys = failsafeKeys(world.prefix);
    const id = await confirmOnly(connection, 'bob');
    // What the dead replica did before dying: each endpoint set (outside this test's view of the calls) and its
    // result recorded, nothing said. Its call jobs come back; here, queued again from the dispatch set.
    for (const a of admins) {
      a.enabled = true;
      const result = { ok: true, enabled: true, called: true, at: Date.now() };
      await connection.hset(keys.request(id), `result:${port(a)}`, JSON.stringify(result));
    }

    await replica.start();
    await waitForBothEnabledAndReported();
    await sleep(2000);
    expect(admins.map((a) => a.sets)).toEqual([[], []]);
    for (const a of admins) {
      const said = `Failsafe on (${id}) on ${port(a)}: enabled, read back with admin_getFailsafeEnabled (admin_setFailsafeEnabled(true) done).`;
      expect(texts().filter((t) => t.includes(`(${id}) on ${port(a)}:`))).toEqual([said]);
    }
  }, 120_000);
});

/**
 * Each endpoint called once with true and read back enabled; the request's result on each says it called; the
 * channel and the failsafe's audit trail say it once per endpoint; nothing left to dispatch.
 */
async function expectEachEndpointSetOnce(connection: Redis, id: string, replica: Replica): Promise<void> {
  const keys = failsafeKeys(world.prefix);
  expect(admins.map((a) => a.sets)).toEqual([[true], [true]]);
  const status = await say(replica, 'carol', 'failsafe status');
  for (const a of admins) {
    expect(status).toContain(`failsafe ${port(a)}: ENABLED`);
    const result = JSON.parse((await connection.hget(keys.request(id), `result:${port(a)}`)) ?? '{}');
    expect(result).toMatchObject({ ok: true, enabled: true, called: true });
    const said = `Failsafe on (${id}) on ${port(a)}: enabled, read back with admin_getFailsafeEnabled (admin_setFailsafeEnabled(true) done).`;
    expect(texts().filter((t) => t.includes(`(${id}) on ${port(a)}:`))).toEqual([said]);
    const audit = (await connection.lrange(keys.audit, 0, -1)).map((s) => JSON.parse(s) as { action: string; note: string });
    expect(audit.filter((e) => e.action === 'failsafe_result' && e.note.includes(port(a)))).toMatchObject([{ note: said }]);
  }
  expect(await connection.zcard(keys.dispatch)).toBe(0);
}
