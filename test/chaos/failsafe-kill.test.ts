/**
 * The failsafe's confirmation cut short: two replicas as processes, the request made on one, the confirmation on the
 * other, which is killed (kill -9) right after it: between the confirming Lua change and the queueing of the calls,
 * or in the middle of a call. Whatever it left, the surviving replica finishes it, and each endpoint still gets
 * exactly one admin_setFailsafeEnabled(true).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FailsafeAdminStandIn, startFailsafeAdminStandIn } from '../../src/devnet/failsafe-admin-stand-in.js';
import type { Replica } from '../helpers/replica.js';
import { waitFor } from '../helpers/xmsg.js';
import { SLACK, slackEnv, sleep, useChaosWorld } from './lib.js';

const A = 987;
const B = 988;
const world = useChaosWorld('chaos-failsafe', [A, B]);
let admins: FailsafeAdminStandIn[] = [];
let replicas: Replica[] = [];

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill()));
  await Promise.all(admins.map((a) => a.close()));
});

const consoleSay = (replica: Replica, name: string, text: string) =>
  fetch(`${replica.baseUrl}/console/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, text }),
  });

describe('chaos: the replica confirming the failsafe killed', () => {
  it('still calls each endpoint exactly once', async () => {
    const secret = randomBytes(32);
    const dir = await mkdtemp(join(tmpdir(), 'xmsg-failsafe-'));
    await writeFile(join(dir, 'jwt.hex'), secret.toString('hex'));
    admins = await Promise.all([startFailsafeAdminStandIn({ secret }), startFailsafeAdminStandIn({ secret })]);
    const env = {
      ...slackEnv(world.slack),
      XMSG_CONSOLE: '1',
      XMSG_FAILSAFE_RPCS: admins.map((a) => a.url).join(','),
      XMSG_FAILSAFE_JWT_SECRET: join(dir, 'jwt.hex'),
      XMSG_FAILSAFE_POLL_MS: '300',
      XMSG_FAILSAFE_RETRY_MS: '300',
    };
    replicas = [world.replica('first', env), world.replica('second', env)];
    await Promise.all(replicas.map((r) => r.start()));
    const [first, second] = replicas as [Replica, Replica];

    expect(((await (await consoleSay(first, 'alice', 'failsafe on drill')).json()) as { text: string }).text).toContain('requested');
    // The confirmation, and the confirming replica killed as soon as its answer is under way (not awaited).
    const confirming = consoleSay(second, 'bob', 'failsafe on confirmed').catch(() => undefined);
    await sleep(40);
    await second.kill();
    await confirming;

    const texts = () => world.slack.channelMessages(SLACK.channel).map((m) => m.text);
    const port = (a: FailsafeAdminStandIn) => `127.0.0.1:${new URL(a.url).port}`;
    await waitFor(
      'both endpoints enabled and reported',
      () => admins.every((a) => a.enabled && texts().some((t) => t.includes(`on ${port(a)}: enabled`))),
      60_000,
    );
    // Long enough for a stalled call to be taken over and any second dispatch to run.
    await sleep(3000);
    expect(admins.map((a) => a.sets)).toEqual([[true], [true]]);
    for (const a of admins) expect(texts().filter((t) => t.includes(`on ${port(a)}: enabled`))).toHaveLength(1);
  }, 120_000);
});
