import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, toHex } from 'viem';
import { afterEach, describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage, setSafe } from '../src/devnet/devnet.js';
import { type FailsafeAdminStandIn, startFailsafeAdminStandIn } from '../src/devnet/failsafe-admin-stand-in.js';
import type { FakeMessage } from './fakes/discord/index.js';
import { sendBlockAction, sendSlashCommand } from './fakes/slack.js';
import { SLACK_TEST, slackEnv } from './fixtures/chat.js';
import { useWorld } from './helpers/world.js';
import { metricValue, type RunningXmsg, scrape, waitFor } from './helpers/xmsg.js';

const { token: TOKEN, secret: SECRET, channel: CHANNEL, oncallGroup: ONCALL } = SLACK_TEST;
const A = 991;
const B = 992;
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const STRANGER = 'U0STRANGER';
const DISCORD_TOKEN = 'discord-failsafe-bot-token';
const DISCORD_APP = '1100000000000000091';
const DISCORD_CHANNEL = '1210000000000000091';
const DISCORD_ONCALL = '1300000000000000091';
const DAVE = '1400000000000000091';

const world = useWorld({
  name: 'failsafe',
  chainIds: [A, B],
  slack: { token: TOKEN, usergroups: { [ONCALL]: [ALICE, BOB] } },
  discord: {
    token: DISCORD_TOKEN,
    applicationId: DISCORD_APP,
    channelId: DISCORD_CHANNEL,
    roles: [{ id: DISCORD_ONCALL, name: 'oncall' }],
    heartbeatIntervalMs: 1000,
  },
  scope: 'test',
  holdLabels: 'each',
  mineBeforeXmsg: true,
});

let admins: FailsafeAdminStandIn[] = [];
afterEach(async () => {
  await Promise.all(admins.map((a) => a.close()));
  admins = [];
});

/** Two admin endpoints checking the same JWT secret, and xmsg pointed at them with it. */
async function start(overrides: Record<string, string> = {}): Promise<RunningXmsg> {
  const secret = randomBytes(32);
  const dir = await mkdtemp(join(tmpdir(), 'xmsg-failsafe-'));
  await writeFile(join(dir, 'jwt.hex'), `0x${secret.toString('hex')}\n`);
  admins = await Promise.all([startFailsafeAdminStandIn({ secret }), startFailsafeAdminStandIn({ secret })]);
  return world.startXmsg({
    ...slackEnv(world),
    XMSG_CONSOLE: '1',
    XMSG_CHAT_MAX_PER_S: '50',
    XMSG_ESCALATE_AFTER_S: '600',
    XMSG_FAILSAFE_RPCS: admins.map((a) => a.url).join(','),
    XMSG_FAILSAFE_JWT_SECRET: join(dir, 'jwt.hex'),
    XMSG_FAILSAFE_POLL_MS: '200',
    XMSG_FAILSAFE_RETRY_MS: '300',
    ...overrides,
  });
}

/** Discord on beside Slack, logged in to the loopback gateway. */
async function withDiscord(start: Promise<RunningXmsg>): Promise<RunningXmsg> {
  const x = await start;
  await waitFor('the discord client to be ready', () => x.app.discordClient?.isReady(), 10_000);
  return x;
}
const discordEnv = () => ({
  DISCORD_BOT_TOKEN: DISCORD_TOKEN,
  DISCORD_APPLICATION_ID: DISCORD_APP,
  DISCORD_CHANNEL_ID: DISCORD_CHANNEL,
  DISCORD_ONCALL_ROLE_ID: DISCORD_ONCALL,
  DISCORD_API_URL: world.discord.apiUrl,
});
const discordRoot = () =>
  waitFor('the consensus-bug root on Discord', () =>
    world.discord.channelMessages().find((m) => String(m.embeds[0]?.title ?? '').includes('CONSENSUS BUG')),
  );
const discordButtons = (m: FakeMessage) =>
  m.components.flatMap((row) =>
    (row.components as Array<{ label: string; custom_id: string }>).map((b) => [b.label, b.custom_id] as const),
  );

const say = async (x: RunningXmsg, text: string, userId: string, userName = userId.toLowerCase()) => {
  const res = await sendSlashCommand(`${x.baseUrl}/slack/events`, SECRET, { text, userId, userName, channelId: CHANNEL });
  return (res.body as { text?: string }).text ?? '';
};
const consoleSay = async (x: RunningXmsg, name: string, text: string) => {
  const res = await fetch(`${x.baseUrl}/console/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, text }),
  });
  return ((await res.json()) as { text: string }).text;
};
const channelTexts = () => world.slack.channelMessages(CHANNEL).map((m) => m.text);
const sets = () => admins.map((a) => [...a.sets]);

/** A consensus-bug alert: an invalid message whose block the safe head then passes. Returns its Slack root. */
async function violation() {
  const init = await emitInitiating(world.devnet.chain(A));
  const exec = await executeMessage(world.devnet.chain(B), init.identifier, keccak256(toHex(`forged ${init.msgHash}`)));
  await setSafe(world.devnet.chain(B), exec.blockNumber);
  return waitFor('the consensus-bug root', () => world.slack.channelMessages(CHANNEL).find((m) => m.text.includes('CONSENSUS BUG')));
}
const alertIdOf = (root: { text: string }) => /XM-\d+/.exec(root.text)![0];
const threadOf = (ts: string) => () => world.slack.threadReplies(CHANNEL, ts).map((m) => m.text);

describe('the interop failsafe behind two on-call members', () => {
  it('enables on the button of one member and the confirmation of another: one call per endpoint, read back, both names', async () => {
    const x = await start();
    const root = await violation();
    const alertId = alertIdOf(root);
    const buttons = (root.blocks as Array<{ type: string; elements?: Array<{ action_id: string }> }>)
      .find((b) => b.type === 'actions')!
      .elements!.map((e) => e.action_id);
    expect(buttons).toContain('xmsg_failsafe_on');

    const press = await sendBlockAction(`${x.baseUrl}/slack/events`, SECRET, {
      userId: ALICE,
      userName: 'alice',
      channelId: CHANNEL,
      messageTs: root.ts,
      actionId: 'xmsg_failsafe_on',
    });
    expect(press.status).toBe(200);
    const thread = threadOf(root.ts);
    await waitFor('the request in the thread', () => thread().some((t) => t.includes('requested') && t.includes('alice')));
    await new Promise((r) => setTimeout(r, 500));
    expect(sets()).toEqual([[], []]);

    const confirmed = await say(x, `failsafe on ${alertId} confirmed with alice`, BOB, 'bob');
    expect(confirmed).toContain('confirmed by bob');
    await waitFor('both endpoints enabled and reported', () =>
      admins.every((a) => thread().some((t) => t.includes(`127.0.0.1:${new URL(a.url).port}: enabled`))),
    );
    expect(sets()).toEqual([[true], [true]]);
    expect(admins.every((a) => a.enabled)).toBe(true);
    expect(thread().join('\n')).toMatch(/confirmed by bob.*requested by alice/s);
    const audit = ((await (await fetch(`${x.baseUrl}/api/alerts/${alertId}`)).json()) as { audit: Array<{ who: string; note?: string }> })
      .audit;
    expect(audit.some((e) => e.who.includes('alice') && e.note?.includes('requested'))).toBe(true);
    expect(audit.some((e) => e.who.includes('bob') && e.note?.includes('confirmed'))).toBe(true);
    await waitFor('the results in the channel', () => channelTexts().filter((t) => t.includes(': enabled, read back')).length === 2);
    await waitFor('the gauge', async () => metricValue(await scrape(x.baseUrl), 'xmsg_failsafe_enabled{') === 2);
    expect(await say(x, 'health', ALICE)).toContain('ENABLED');

    // Off takes the same rule; the console's typed name is a second member on another platform.
    expect(await say(x, 'failsafe off understood, bridge fixed', ALICE, 'alice')).toContain('requested');
    expect(await consoleSay(x, 'carol', 'failsafe off agreed')).toContain('confirmed by carol');
    await waitFor('both endpoints disabled', () => admins.every((a) => !a.enabled));
    await new Promise((r) => setTimeout(r, 800));
    expect(sets()).toEqual([
      [true, false],
      [true, false],
    ]);
    // xmsg's own changes are not reported as changes made outside it.
    expect(channelTexts().some((t) => t.includes('outside xmsg'))).toBe(false);
  });

  it('refuses the same member twice, a non-member, and a confirmation after the window; nothing is called', async () => {
    const x = await start({ XMSG_FAILSAFE_CONFIRM_S: '2' });
    expect(await say(x, 'failsafe on no alert, drill', STRANGER, 'mallory')).toMatch(/may not enable the failsafe/);
    expect(await say(x, 'failsafe on drill of the two-person rule', ALICE, 'alice')).toContain('requested');
    expect(await say(x, 'failsafe on me again', ALICE, 'alice')).toContain('you asked for it');
    expect(await say(x, 'failsafe on me too', STRANGER, 'mallory')).toMatch(/may not enable/);
    await new Promise((r) => setTimeout(r, 2300));
    expect(await say(x, 'failsafe on too late', BOB, 'bob')).toMatch(/expired/);
    await waitFor('the expiry in the channel', () => channelTexts().some((t) => t.includes('expired') && t.includes('nothing was called')));
    await new Promise((r) => setTimeout(r, 500));
    expect(sets()).toEqual([[], []]);
    expect(await say(x, 'failsafe status', STRANGER)).toContain('disabled');
  });

  it('reports an endpoint down or refusing the token as failed per endpoint, retries, and reports done only once it is', async () => {
    const x = await start();
    admins[0]!.refuseAuth = true;
    admins[1]!.down = true;
    await consoleSay(x, 'alice', 'failsafe on outage drill');
    await consoleSay(x, 'bob', 'failsafe on confirmed');
    const port = (i: number) => `127.0.0.1:${new URL(admins[i]!.url).port}`;
    await waitFor('both failures in the channel', () =>
      [0, 1].every((i) => channelTexts().some((t) => t.includes(`on ${port(i)}: FAILED`))),
    );
    expect(channelTexts().find((t) => t.includes(`on ${port(0)}: FAILED`))).toContain('refused the authentication');
    expect(channelTexts().some((t) => t.includes(': enabled, read back'))).toBe(false);
    expect(sets()).toEqual([[], []]);
    admins[0]!.refuseAuth = false;
    admins[1]!.down = false;
    await waitFor('both done after the retries', () =>
      [0, 1].every((i) => channelTexts().some((t) => t.includes(`on ${port(i)}: enabled`))),
    );
    expect(sets()).toEqual([[true], [true]]);
  });

  it('posts a change made outside xmsg in the channel and shows it in the gauge', async () => {
    const x = await start();
    await waitFor(
      'the first read',
      async () =>
        metricValue(await scrape(x.baseUrl), 'xmsg_failsafe_enabled{') === 0 &&
        (await scrape(x.baseUrl)).includes('xmsg_failsafe_enabled{'),
    );
    admins[1]!.enabled = true;
    const port = new URL(admins[1]!.url).port;
    await waitFor('the channel post', () => channelTexts().some((t) => t.includes(`127.0.0.1:${port} was ENABLED outside xmsg`)));
    const metrics = await scrape(x.baseUrl);
    expect(metricValue(metrics, `xmsg_failsafe_enabled{endpoint="127.0.0.1:${port}"}`)).toBe(1);
    expect(metrics).not.toContain(admins[1]!.url);
  });

  it('XMSG_FAILSAFE_AUTO=violation: a cross-safety violation enables it at once, one call per endpoint, told in the thread and the channel', async () => {
    await start({ XMSG_FAILSAFE_AUTO: 'violation' });
    const root = await violation();
    const thread = threadOf(root.ts);
    const said = (t: string) => t.includes('XMSG_FAILSAFE_AUTO=violation: enabling the interop failsafe at once');
    await waitFor('the automatic enabling in the thread', () => thread().some(said));
    expect(channelTexts().some(said)).toBe(true);
    await waitFor('both endpoints enabled and reported', () =>
      admins.every((a) => thread().some((t) => t.includes(`127.0.0.1:${new URL(a.url).port}: enabled`))),
    );
    // Long enough for a second call (a second dispatch, a watch re-queueing) to land if there were one.
    await new Promise((r) => setTimeout(r, 800));
    expect(sets()).toEqual([[true], [true]]);
    expect(admins.every((a) => a.enabled)).toBe(true);
    expect(channelTexts().filter((t) => t.includes(': enabled, read back'))).toHaveLength(2);
    expect(channelTexts().some((t) => t.includes('outside xmsg'))).toBe(false);
  });

  it("takes a request made on Slack and the confirmation of a Discord member pressing the root's Enable failsafe", async () => {
    const x = await withDiscord(start(discordEnv()));
    const root = await violation();
    const alertId = alertIdOf(root);
    const onDiscord = await discordRoot();
    const button = discordButtons(onDiscord).find(([label]) => label === 'Enable failsafe');
    expect(button, JSON.stringify(discordButtons(onDiscord))).toBeDefined();

    expect(await say(x, `failsafe on ${alertId} the forged block is cross-safe`, ALICE, 'alice')).toContain('requested');
    await new Promise((r) => setTimeout(r, 500));
    expect(sets()).toEqual([[], []]);

    const press = world.discord.pressButton({
      userId: DAVE,
      username: 'dave',
      roles: [DISCORD_ONCALL],
      customId: button![1],
      message: onDiscord,
    });
    expect((await world.discord.answer(press.id, 5000)).content).toContain('confirmed by dave');
    const thread = threadOf(root.ts);
    await waitFor('both endpoints enabled and reported', () =>
      admins.every((a) => thread().some((t) => t.includes(`127.0.0.1:${new URL(a.url).port}: enabled`))),
    );
    expect(sets()).toEqual([[true], [true]]);
    expect(thread().join('\n')).toMatch(/confirmed by dave.*requested by alice/s);
    await waitFor('the confirmation in the Discord thread', () =>
      world.discord.threadMessages(onDiscord.id).some((m) => m.content.includes('confirmed by dave')),
    );
  });

  it('offers no Enable failsafe on a Discord root when XMSG_FAILSAFE_RPCS is unset', async () => {
    await withDiscord(world.startXmsg({ ...discordEnv(), XMSG_CHAT_MAX_PER_S: '50', XMSG_ESCALATE_AFTER_S: '600' }));
    const init = await emitInitiating(world.devnet.chain(A));
    const exec = await executeMessage(world.devnet.chain(B), init.identifier, keccak256(toHex(`forged ${init.msgHash}`)));
    await setSafe(world.devnet.chain(B), exec.blockNumber);
    const onDiscord = await discordRoot();
    const labels = discordButtons(onDiscord).map(([label]) => label);
    expect(labels).toContain('Acknowledge');
    expect(labels).not.toContain('Enable failsafe');
  });
});
