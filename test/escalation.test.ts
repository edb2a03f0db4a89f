/**
 * The escalation ladder and the alerts that end by themselves, end to end: real Redis and BullMQ, anvil chains, the
 * loopback Slack (and Discord for the policy file's roles).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Hex, keccak256, toHex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage, mine, replaceBlocksFrom, snapshot } from '../src/devnet/devnet.js';
import type { FakeMessage as DiscordMessage } from './fakes/discord/index.js';
import { sendSlashCommand } from './fakes/slack.js';
import { SLACK_TEST, slackEnv } from './fixtures/chat.js';
import { useWorld } from './helpers/world.js';
import { metricValue, type RunningXmsg, scrape, waitFor } from './helpers/xmsg.js';

const { token: TOKEN, secret: SECRET, channel: CHANNEL, oncallGroup: ONCALL } = SLACK_TEST;
const A = 971;
const B = 972;
const ESCALATION = 'S0ESCALATION';
const ONCALL_USER = 'U0ONCALL';
const ADMIN = 'U0ADMIN';
const DISCORD = {
  token: 'discord-escalation-token',
  applicationId: '1100000000000000002',
  guildId: '1200000000000000002',
  channelId: '1210000000000000002',
  oncallRole: '1300000000000000011',
  escalationRole: '1300000000000000012',
};

const world = useWorld({
  name: 'escalation',
  chainIds: [A, B],
  slack: { token: TOKEN, usergroups: { [ONCALL]: [ONCALL_USER], [ESCALATION]: ['U0BOSS'] } },
  discord: {
    token: DISCORD.token,
    applicationId: DISCORD.applicationId,
    guildId: DISCORD.guildId,
    channelId: DISCORD.channelId,
    roles: [
      { id: DISCORD.oncallRole, name: 'oncall' },
      { id: DISCORD.escalationRole, name: 'escalation' },
    ],
    heartbeatIntervalMs: 1000,
  },
  scope: 'test',
  holdLabels: 'each',
  mineBeforeXmsg: true,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xmsg-escalation-'));
});

function start(overrides: Record<string, string> = {}) {
  return world.startXmsg({
    ...slackEnv(world),
    SLACK_ESCALATION_GROUP_ID: ESCALATION,
    SLACK_ADMIN_USER_IDS: ADMIN,
    XMSG_CHAT_MAX_PER_S: '50',
    XMSG_ESCALATE_AFTER_S: '600',
    ...overrides,
  });
}

const roots = () => world.slack.channelMessages(CHANNEL);
const thread = (ts: string) => world.slack.threadReplies(CHANNEL, ts).map((m) => m.text);
const pages = (ts: string) => thread(ts).filter((t) => t.includes('<!subteam^'));

async function oneRoot() {
  const [root] = await waitFor('the root message', () => (roots().length ? roots() : undefined));
  return root!;
}

async function invalidMessage(): Promise<{ msgHash: Hex }> {
  const init = await emitInitiating(world.devnet.chain(A));
  const msgHash = keccak256(toHex(`forged ${init.msgHash}`));
  await executeMessage(world.devnet.chain(B), init.identifier, msgHash);
  return { msgHash };
}

/** `/xmsg …` typed in Slack by `userId`; the ephemeral answer. */
async function say(x: RunningXmsg, text: string, userId = ONCALL_USER, userName = 'alice'): Promise<string> {
  const res = await sendSlashCommand(`${x.baseUrl}/slack/events`, SECRET, { text, userId, userName, channelId: CHANNEL });
  expect(res.status).toBe(200);
  return (res.body as { text?: string }).text ?? '';
}

/** When each of the first `n` pages of a thread arrived (polled every 50 ms), from `since`. */
async function pageTimes(ts: string, n: number, since: number, timeoutMs: number): Promise<number[]> {
  const seen: number[] = [];
  await waitFor(
    `${n} pages`,
    () => {
      while (seen.length < pages(ts).length) seen.push(Date.now() - since);
      return seen.length >= n;
    },
    timeoutMs,
  );
  return seen;
}

describe('the escalation ladder', () => {
  it('goes on after a manual Escalate: the next level is paged on time, then the escalation group', async () => {
    const x = await start({ XMSG_ESCALATION_REPEAT_S: '2' });
    await invalidMessage();
    const root = await oneRoot();
    const pressed = Date.now();
    expect(await say(x, 'escalate XM-1')).toBe('XM-1: Escalated by alice (level 1).');
    const times = await pageTimes(root.ts, 3, pressed, 15_000);
    expect(pages(root.ts)).toEqual([
      `<!subteam^${ONCALL}> Escalated by alice (level 1).`,
      `<!subteam^${ONCALL}> Not acknowledged for 2 s: paging on-call (level 2).`,
      `<!subteam^${ESCALATION}> Not acknowledged for 2 s: paging escalation (level 3).`,
    ]);
    // Level 2 two seconds after the press, level 3 two seconds later (the chat outbox adds a little).
    expect(times[1]).toBeGreaterThanOrEqual(2000);
    expect(times[1]).toBeLessThan(4500);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1500);
    expect((await x.app.alerts.store.audit('XM-1')).map((e) => [e.who, e.action])).toEqual([
      ['xmsg', 'opened'],
      [`alice (slack:${ONCALL_USER})`, 'escalate'],
      ['xmsg', 'timer'],
      ['xmsg', 'timer'],
    ]);
  });

  it('raises one level when two people press Escalate at once; the other is told who did', async () => {
    const x = await start();
    await invalidMessage();
    const root = await oneRoot();
    const answers = await Promise.all([say(x, 'escalate XM-1'), say(x, 'escalate XM-1', ADMIN, 'bob')]);
    const refused = answers.filter((a) => a.includes('already escalated'));
    expect(answers.filter((a) => a.includes('Escalated by'))).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^XM-1: already escalated to level 1 by (alice \(slack:U0ONCALL\)|bob \(slack:U0ADMIN\)) \d s ago\.$/);
    // A press a moment later is refused too.
    expect(await say(x, 'escalate XM-1', ADMIN, 'bob')).toMatch(/^XM-1: already escalated to level 1 by .* \d s ago\.$/);
    await waitFor('the escalation reply', () => pages(root.ts).length === 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(pages(root.ts)).toHaveLength(1);
    expect((await x.app.alerts.store.get('XM-1'))!.escalationLevel).toBe(1);
    // The one level's next step waits in the queue (XMSG_ESCALATION_REPEAT_S, 900 s by default).
    expect(metricValue(await scrape(x.baseUrl), 'xmsg_queue_jobs{queue="escalations",state="delayed"}')).toBe(1);
  });

  it('follows a policy file: its levels, targets and repeats, on Slack and on Discord', async () => {
    const policy = join(dir, 'policy.json');
    await writeFile(
      policy,
      JSON.stringify({
        severity: { warning: { levels: [{ afterS: 600, targets: ['oncall'] }] } },
        kind: {
          invalid_message: {
            levels: [
              { afterS: 1, targets: ['escalation'] },
              { afterS: 1, targets: ['oncall', 'escalation'] },
            ],
            repeatEveryS: 600,
          },
        },
      }),
    );
    const x = await start({
      XMSG_ESCALATION_POLICY: policy,
      DISCORD_BOT_TOKEN: DISCORD.token,
      DISCORD_APPLICATION_ID: DISCORD.applicationId,
      DISCORD_CHANNEL_ID: DISCORD.channelId,
      DISCORD_ONCALL_ROLE_ID: DISCORD.oncallRole,
      DISCORD_ESCALATION_ROLE_ID: DISCORD.escalationRole,
      DISCORD_API_URL: world.discord.apiUrl,
    });
    await waitFor('the discord client to be ready', () => x.app.discordClient?.isReady(), 10_000);
    await invalidMessage();
    const root = await oneRoot();
    await waitFor('two pages', () => pages(root.ts).length === 2, 10_000);
    expect(pages(root.ts)).toEqual([
      `<!subteam^${ESCALATION}> Not acknowledged for 1 s: paging escalation (level 1).`,
      `<!subteam^${ONCALL}> <!subteam^${ESCALATION}> Not acknowledged for 1 s: paging on-call and escalation (level 2).`,
    ]);

    const [discordRoot] = await waitFor('the Discord root', () =>
      world.discord.channelMessages().length ? world.discord.channelMessages() : undefined,
    );
    const rolePages = () => world.discord.threadMessages(discordRoot!.id).filter((m: DiscordMessage) => m.pinged.roles.length > 0);
    await waitFor('two Discord pages', () => rolePages().length === 2, 10_000);
    const [first, second] = rolePages();
    expect(first!.allowedMentions).toEqual({ parse: [], roles: [DISCORD.escalationRole] });
    expect(first!.pinged).toEqual({ roles: [DISCORD.escalationRole], users: [], everyone: false });
    expect(second!.content).toBe(
      `<@&${DISCORD.oncallRole}> <@&${DISCORD.escalationRole}> Not acknowledged for 1 s: paging on-call and escalation (level 2).`,
    );
    expect(second!.allowedMentions).toEqual({ parse: [], roles: [DISCORD.oncallRole, DISCORD.escalationRole] });
    // Level 3 repeats level 2 after repeatEveryS (600 s): not now.
    await new Promise((r) => setTimeout(r, 1500));
    expect(pages(root.ts)).toHaveLength(2);
  });

  it('refuses to start on a bad policy file, one line per problem', async () => {
    const policy = join(dir, 'bad-policy.json');
    await writeFile(policy, JSON.stringify({ kind: { invalid_message: { levels: [{ afterS: -1, targets: ['everyone'] }] } } }));
    await expect(start({ XMSG_ESCALATION_POLICY: policy })).rejects.toThrow(
      [
        `invalid configuration:`,
        `  - XMSG_ESCALATION_POLICY: ${policy}: kind.invalid_message.levels[0].afterS: Too small: expected number to be >=0`,
        `  - XMSG_ESCALATION_POLICY: ${policy}: kind.invalid_message.levels[0].targets[0]: Invalid option: expected one of "oncall"|"escalation"`,
      ].join('\n'),
    );
  });
});

describe('alerts that end when their cause ends', () => {
  it('resolves an invalid-message alert once its block is replaced, as the protocol requires, and pages no more', async () => {
    const x = await start({ XMSG_ESCALATE_AFTER_S: '2', XMSG_ESCALATION_REPEAT_S: '1' });
    const B_ = world.devnet.chain(B);
    const before = await snapshot(B_);
    await invalidMessage();
    const root = await oneRoot();
    await replaceBlocksFrom(B_, before);
    await mine(B_);
    await waitFor('the resolution in the thread', () =>
      thread(root.ts).some((t) => t.includes('Every block replaced, as the protocol requires: resolved automatically.')),
    );
    await waitFor('the root shows it resolved', () => roots()[0]!.text.includes('resolved by xmsg'));
    const paged = pages(root.ts).length;
    await new Promise((r) => setTimeout(r, 3500));
    expect(pages(root.ts)).toHaveLength(paged);
    expect((await x.app.alerts.store.audit('XM-1')).filter((e) => e.action === 'replaced' || e.action === 'resolve')).toEqual([
      expect.objectContaining({ who: 'xmsg', action: 'replaced' }),
      expect.objectContaining({
        who: 'xmsg',
        action: 'resolve',
        note: 'Every block replaced, as the protocol requires: resolved automatically.',
      }),
    ]);
    expect(metricValue(await scrape(x.baseUrl), 'xmsg_queue_jobs{queue="escalations",state="delayed"}')).toBe(0);
  });

  it('resolves an unpromoted alert once its message is reorged out', async () => {
    const x = await start({ XMSG_PROMOTION_DEADLINE_S: '1' });
    const B_ = world.devnet.chain(B);
    await mine(B_);
    const before = await snapshot(B_);
    const init = await emitInitiating(world.devnet.chain(A));
    await executeMessage(B_, init.identifier, init.msgHash);
    const root = await oneRoot();
    expect(root.text).toContain('not cross-safe in time');
    await replaceBlocksFrom(B_, before);
    await mine(B_, 2);
    await waitFor('the resolution in the thread', () =>
      thread(root.ts).some((t) => t.includes('was reorged out') && t.includes('resolved automatically')),
    );
    expect(await x.app.alerts.store.get('XM-1')).toMatchObject({ state: 'resolved', resolvedBy: 'xmsg' });
    expect(x.events.map((e) => e.type)).toEqual(['unpromoted', 'reorged']);
  });
});
