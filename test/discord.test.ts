import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Hex, keccak256, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage, mine, replaceBlocksFrom, setSafe, snapshot } from '../src/devnet/devnet.js';
import { EPHEMERAL, type FakeMessage, generateDiscordKeys, type SlashCommandInput, textMessage } from './fakes/discord/index.js';
import { type FakeSlack, startFakeSlack } from './fakes/slack.js';
import { useWorld } from './helpers/world.js';
import { waitFor } from './helpers/xmsg.js';

const A = 961;
const B = 962;
const TOKEN = 'discord-test-bot-token';
const APP_ID = '1100000000000000001';
const GUILD = '1200000000000000001';
const CHANNEL = '1210000000000000001';
const ONCALL_ROLE = '1300000000000000001';
const ADMIN_ROLE = '1300000000000000002';
const ESCALATION_ROLE = '1300000000000000003';
const ALICE = '1400000000000000001';
const MALLORY = '1400000000000000002';
const BOB = '1400000000000000003';
const KEYS = generateDiscordKeys();

const world = useWorld({
  name: 'discord',
  chainIds: [A, B],
  discord: {
    token: TOKEN,
    applicationId: APP_ID,
    guildId: GUILD,
    channelId: CHANNEL,
    roles: [
      { id: ONCALL_ROLE, name: 'oncall' },
      { id: ADMIN_ROLE, name: 'admin' },
      { id: ESCALATION_ROLE, name: 'escalation' },
    ],
    heartbeatIntervalMs: 1000,
  },
  scope: 'test',
  holdLabels: 'each',
  mineBeforeXmsg: true,
});

const discordEnv = () => ({
  DISCORD_BOT_TOKEN: TOKEN,
  DISCORD_APPLICATION_ID: APP_ID,
  DISCORD_CHANNEL_ID: CHANNEL,
  DISCORD_ONCALL_ROLE_ID: ONCALL_ROLE,
  DISCORD_ADMIN_ROLE_IDS: ADMIN_ROLE,
  DISCORD_API_URL: world.discord.apiUrl,
});

/** One xmsg replica with Discord on, logged in to the fake gateway. */
async function start(overrides: Record<string, string> = {}) {
  const x = await world.startXmsg({ ...discordEnv(), XMSG_CHAT_MAX_PER_S: '50', XMSG_ESCALATE_AFTER_S: '600', ...overrides });
  await waitFor('the discord client to be ready', () => x.app.discordClient?.isReady(), 10_000);
  return x;
}

async function invalidMessage(): Promise<{ msgHash: Hex; blockNumber: bigint }> {
  const init = await emitInitiating(world.devnet.chain(A));
  const msgHash = keccak256(toHex(`forged ${init.msgHash}`));
  const exec = await executeMessage(world.devnet.chain(B), init.identifier, msgHash);
  return { msgHash, blockNumber: exec.blockNumber };
}

const roots = () => world.discord.channelMessages();
const thread = (root: FakeMessage) => world.discord.threadMessages(root.id);
const threadTexts = (root: FakeMessage) => thread(root).map((m) => m.content);
const latest = (root: FakeMessage) => roots().find((m) => m.id === root.id)!;
const field = (m: FakeMessage, name: string) =>
  (m.embeds[0]?.fields as Array<{ name: string; value: string }> | undefined)?.find((f) => f.name === name)?.value;
const title = (m: FakeMessage) => String(m.embeds[0]?.title ?? '');
const buttons = (m: FakeMessage) =>
  m.components.flatMap((row) => (row.components as Array<{ label: string; custom_id: string }>).map((b) => [b.label, b.custom_id]));
const roleMentions = (root: FakeMessage) => thread(root).filter((m) => m.pinged.roles.length > 0);

async function oneRoot(): Promise<FakeMessage> {
  const [root] = await waitFor('the root message', () => (roots().length ? roots() : undefined), 15_000);
  return root!;
}

/** `/xmsg …` as a member with these roles types it; returns the ephemeral answer the member sees. */
async function say(input: Omit<SlashCommandInput, 'userId'> & { userId?: string }) {
  const sent = world.discord.slashCommand({ userId: ALICE, username: 'alice', roles: [ONCALL_ROLE], ...input });
  const answer = await world.discord.answer(sent.id, 5000);
  expect(answer.flags & EPHEMERAL).toBe(EPHEMERAL);
  expect(answer.callbackAfterMs).toBeLessThan(3000);
  return answer.content;
}

/** Alice, on call, pressing Acknowledge on XM-1's root. */
const aliceAcksXm1 = (root: FakeMessage) => ({
  userId: ALICE,
  username: 'alice',
  roles: [ONCALL_ROLE],
  customId: 'xmsg|ack|XM-1',
  message: root,
});

describe('alerts in Discord', () => {
  it('posts an embed with the four buttons, starts a thread under it and follows the alert there', async () => {
    const x = await start();
    const before = await snapshot(world.devnet.chain(B));
    const { msgHash } = await invalidMessage();
    const root = await oneRoot();
    expect(title(root)).toBe('XM-1 CRITICAL: Invalid executing message on chain 962');
    expect(JSON.stringify(root.embeds)).toContain(msgHash);
    expect(field(root, 'State')).toBe('open');
    // Each button also carries the deployment it was posted under (a button of an earlier state changes nothing).
    const deployment = (await x.app.redis.get(x.app.store.keys.deployment))!.split('|')[0];
    expect(buttons(root)).toEqual([
      ['Acknowledge', `xmsg|ack|XM-1|${deployment}`],
      ['Escalate', `xmsg|escalate|XM-1|${deployment}`],
      ['Silence 1h', `xmsg|silence_1h|XM-1|${deployment}`],
      ['Resolve', `xmsg|resolve|XM-1|${deployment}`],
    ]);
    expect(root.pinged).toEqual({ roles: [], users: [], everyone: false });
    await waitFor('the thread', () => latest(root).thread);
    expect(latest(root).thread!.name).toBe('XM-1 Invalid executing message on chain 962');

    await replaceBlocksFrom(world.devnet.chain(B), before);
    await mine(world.devnet.chain(B));
    await waitFor('the replacement in the thread', () => threadTexts(root).some((t) => t.includes('was replaced')), 15_000);
    expect(roots()).toHaveLength(1);
    expect(x.events.map((e) => e.type)).not.toContain('cross_safety_violation');
  });

  it('acknowledges from the button of an on-call role holder: thread reply naming them, root edited, no escalation', async () => {
    const x = await start({ XMSG_ESCALATE_AFTER_S: '2', XMSG_ESCALATION_REPEAT_S: '2' });
    await invalidMessage();
    const root = await oneRoot();
    const press = world.discord.pressButton(aliceAcksXm1(root));
    const answer = await world.discord.answer(press.id);
    expect(answer).toMatchObject({ content: 'XM-1: Acknowledged by alice.', ephemeral: true });
    await waitFor('the ack reply', () => threadTexts(root).includes('Acknowledged by alice.'));
    await waitFor('the root edit', () => field(latest(root), 'State') === `acknowledged by alice (discord:${ALICE})`);
    await new Promise((r) => setTimeout(r, 3000));
    expect(roleMentions(root)).toEqual([]);
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('acknowledged');
  });

  it('refuses the button to someone without the role (ephemeral) and leaves the alert as it was', async () => {
    const x = await start();
    await invalidMessage();
    const root = await oneRoot();
    await waitFor('the thread', () => latest(root).thread);
    const press = world.discord.pressButton({ userId: MALLORY, username: 'mallory', roles: [], customId: 'xmsg|ack|XM-1', message: root });
    const answer = await world.discord.answer(press.id);
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe('You may not ack: you hold neither the on-call role nor an admin role.');
    await new Promise((r) => setTimeout(r, 500));
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('open');
    expect(thread(root)).toEqual([]);
    expect(latest(root).edits).toEqual([]);
  });

  it('mentions exactly the on-call role when nobody acknowledges, with allowed_mentions naming it and no @everyone', async () => {
    await start({ XMSG_ESCALATE_AFTER_S: '1', XMSG_ESCALATION_REPEAT_S: '600' });
    await invalidMessage();
    const root = await oneRoot();
    expect(root.pinged.roles).toEqual([]);
    const [page] = await waitFor('the page', () => (roleMentions(root).length ? roleMentions(root) : undefined), 10_000);
    expect(page!.content).toBe(`<@&${ONCALL_ROLE}> Not acknowledged for 1 s: paging on-call (level 1).`);
    expect(page!.allowedMentions).toEqual({ parse: [], roles: [ONCALL_ROLE] });
    expect(page!.pinged).toEqual({ roles: [ONCALL_ROLE], users: [], everyone: false });
    expect(roots().every((m) => !m.pinged.everyone && m.pinged.roles.length === 0)).toBe(true);
  });

  it('mentions the on-call role in the first post of a cross-safety violation', async () => {
    await start();
    const { blockNumber } = await invalidMessage();
    await oneRoot();
    await setSafe(world.devnet.chain(B), blockNumber);
    const violation = await waitFor('the violation root', () => roots().find((m) => title(m).includes('CONSENSUS BUG')), 15_000);
    expect(violation.content).toBe(`<@&${ONCALL_ROLE}>`);
    expect(violation.pinged).toEqual({ roles: [ONCALL_ROLE], users: [], everyone: false });
    expect(violation.allowedMentions).toEqual({ parse: [], roles: [ONCALL_ROLE] });
  });
});

describe('/xmsg in Discord', () => {
  it('answers every sub-command, ephemerally and within 3 s', async () => {
    await start();
    const { msgHash } = await invalidMessage();
    const root = await oneRoot();

    expect(await say({ subcommand: 'help' })).toContain(
      '/xmsg silence <chain-id | origin | kind | XM-id> <duration> [at <ISO time | +duration>] [reason]',
    );
    expect(await say({ subcommand: 'list' })).toContain('XM-1 [critical]');
    expect(await say({ subcommand: 'status', options: { target: 'XM-1' } })).toContain(msgHash);
    expect(await say({ subcommand: 'status', options: { target: msgHash } })).toContain('invalid');
    expect(await say({ subcommand: 'health' })).toMatch(/chain 961: healthy; latest \d+/);
    expect(await say({ subcommand: 'ack', options: { id: 'XM-1' } })).toBe('XM-1: Acknowledged by alice.');
    expect(await say({ subcommand: 'list', options: { filter: 'acked' } })).toContain('XM-1');
    expect(await say({ subcommand: 'escalate', options: { id: 'XM-1' } })).toBe('XM-1: Escalated by alice (level 1).');
    expect(await say({ subcommand: 'silence', options: { target: '961', duration: '2h', reason: 'batcher upgrade' } })).toMatch(
      /^S-1: new alerts matching chain 961/,
    );
    expect(await say({ subcommand: 'list', options: { filter: 'silenced' } })).toContain('chain 961 muted until');
    expect(await say({ subcommand: 'unsilence', options: { id: 'S-1' } })).toBe('S-1 ended.');
    expect(await say({ subcommand: 'resolve', options: { id: 'XM-1' } })).toBe('XM-1: Resolved by alice.');
    expect(await say({ subcommand: 'list', options: { filter: 'all' } })).toContain('resolved');
    // An admin role acts too; `/xmsg` alone is help.
    expect(
      await say({ userId: MALLORY, roles: [ADMIN_ROLE], subcommand: 'silence', options: { target: 'invalid_message', duration: '30m' } }),
    ).toMatch(/^S-2:/);
    // A maintenance window through the `at` option.
    expect(await say({ subcommand: 'silence', options: { target: '961', duration: '1h', at: '+2h', reason: 'window' } })).toMatch(
      /^S-3: new alerts matching chain 961 will be muted from \S+ until \S+\.$/,
    );
    expect(await say({})).toContain('xmsg watches interop executing messages');

    await waitFor('the thread to show the escalation and resolution', () =>
      threadTexts(root).some((t) => t.startsWith('Resolved by alice')),
    );
    const texts = threadTexts(root);
    expect(texts.filter((t) => t.startsWith('Acknowledged by alice'))).toHaveLength(1);
    expect(texts.find((t) => t.includes('Escalated by alice'))).toBe(`<@&${ONCALL_ROLE}> Escalated by alice (level 1).`);
    await waitFor('the root without buttons', () => latest(root).components.length === 0);
  });

  it('answers bad input with a clear ephemeral error', async () => {
    await start();
    expect(await say({ subcommand: 'ack', options: { id: 'XM-999' } })).toBe('No alert XM-999 (unknown, or expired after its retention).');
    expect(await say({ subcommand: 'silence', options: { target: '961', duration: 'forever' } })).toBe(
      '"forever" is not a duration like 90s, 15m, 2h or 1d.\nUsage:\n/xmsg silence <chain-id | origin | kind | XM-id> <duration> [at <ISO time | +duration>] [reason]',
    );
    expect(await say({ subcommand: 'frobnicate' })).toMatch(/^unknown sub-command "frobnicate"/);
    expect(await say({ subcommand: 'ack', options: { id: 'XM-1 XM-2' } })).toBe(
      'too many arguments (2, at most 1).\nUsage:\n/xmsg ack <XM-id>',
    );
    expect(await say({ subcommand: 'status', options: { target: 'nonsense' } })).toContain('is neither an alert id');
    expect(await say({ userId: MALLORY, roles: [], subcommand: 'resolve', options: { id: 'XM-1' } })).toBe(
      'You may not resolve: you hold neither the on-call role nor an admin role.',
    );
    const press = world.discord.pressButton({
      userId: ALICE,
      roles: [ONCALL_ROLE],
      customId: 'someone-elses-button',
      message: fakeMessage(),
    });
    expect((await world.discord.answer(press.id)).content).toBe('This button does not name an alert.');
  });
});

describe('who may act in Discord with an escalation role', () => {
  const startWithEscalation = (overrides: Record<string, string> = {}) =>
    start({ DISCORD_ESCALATION_ROLE_ID: ESCALATION_ROLE, ...overrides });
  const escalationPages = (root: FakeMessage) => thread(root).filter((m) => m.pinged.roles.includes(ESCALATION_ROLE));

  it('lets a holder of only the escalation role, paged at level 3, acknowledge from the button: the pages stop', async () => {
    const x = await startWithEscalation({ XMSG_ESCALATE_AFTER_S: '1', XMSG_ESCALATION_REPEAT_S: '1' });
    await invalidMessage();
    const root = await oneRoot();
    await waitFor('the escalation page', () => escalationPages(root).length >= 1, 15_000);
    const press = world.discord.pressButton({
      userId: BOB,
      username: 'bob',
      roles: [ESCALATION_ROLE],
      customId: 'xmsg|ack|XM-1',
      message: root,
    });
    expect(await world.discord.answer(press.id)).toMatchObject({ content: 'XM-1: Acknowledged by bob.', ephemeral: true });
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('acknowledged');
    // The thread is delivered in order: a page sent before the ack shows before its reply.
    await waitFor('the ack reply', () => threadTexts(root).includes('Acknowledged by bob.'));
    const pagesAtAck = roleMentions(root).length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(roleMentions(root)).toHaveLength(pagesAtAck);
  });

  it('lets a holder of only the escalation role run /xmsg ack', async () => {
    const x = await startWithEscalation();
    await invalidMessage();
    await oneRoot();
    expect(await say({ userId: BOB, username: 'bob', roles: [ESCALATION_ROLE], subcommand: 'ack', options: { id: 'XM-1' } })).toBe(
      'XM-1: Acknowledged by bob.',
    );
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('acknowledged');
  });

  it('refuses someone holding none of the roles, naming all three, and leaves the alert as it was', async () => {
    const x = await startWithEscalation();
    await invalidMessage();
    const root = await oneRoot();
    await waitFor('the thread', () => latest(root).thread);
    expect(await say({ userId: MALLORY, username: 'mallory', roles: [], subcommand: 'ack', options: { id: 'XM-1' } })).toBe(
      'You may not ack: you hold none of the on-call role, the escalation role or an admin role.',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('open');
    expect(thread(root)).toEqual([]);
  });
});

describe('Discord with Slack', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack({ token: 'xoxb-both', usergroups: { S0ONCALL: ['U0ALICE'] } });
  });
  afterAll(async () => {
    await slack?.stop();
  });

  it('posts one root and thread on each platform, and an ack on Discord shows in the Slack thread', async () => {
    await start({
      SLACK_BOT_TOKEN: 'xoxb-both',
      SLACK_SIGNING_SECRET: 'both-secret',
      SLACK_CHANNEL_ID: 'C0BOTH',
      SLACK_ONCALL_GROUP_ID: 'S0ONCALL',
      SLACK_API_URL: slack.apiUrl,
    });
    await invalidMessage();
    const root = await oneRoot();
    const [slackRoot] = await waitFor('the Slack root', () =>
      slack.channelMessages('C0BOTH').length ? slack.channelMessages('C0BOTH') : undefined,
    );
    const press = world.discord.pressButton(aliceAcksXm1(root));
    await world.discord.answer(press.id);
    await waitFor('the ack in the Slack thread', () =>
      slack.threadReplies('C0BOTH', slackRoot!.ts).some((m) => m.text.includes('Acknowledged by alice')),
    );
    await waitFor('the ack in the Discord thread', () => threadTexts(root).includes('Acknowledged by alice.'));
    await waitFor('the Slack root edit', () => slack.channelMessages('C0BOTH')[0]!.text.includes('acknowledged by alice'));
    expect(roots()).toHaveLength(1);
    expect(slack.channelMessages('C0BOTH')).toHaveLength(1);
    expect(thread(root)).toHaveLength(1);
  });
});

describe('Discord HTTP interactions', () => {
  it('accepts a good signature, answers PING with PONG, and rejects a bad or stale one with 401', async () => {
    const x = await start({ DISCORD_PUBLIC_KEY: KEYS.publicKeyHex });
    const url = `${x.baseUrl}/discord/interactions`;

    const ping = await world.discord.postPing(url, KEYS);
    expect(ping).toEqual({ status: 200, body: { type: 1 } });

    const help = await world.discord.postSlashCommand(url, KEYS, { userId: ALICE, roles: [ONCALL_ROLE], subcommand: 'help' });
    expect(help.status).toBe(200);
    expect(help.body).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect((help.body as { data: { content: string } }).data.content).toContain('/xmsg ack <XM-id>');

    const other = generateDiscordKeys();
    const silence = { userId: ALICE, roles: [ONCALL_ROLE], subcommand: 'silence', options: { target: '961', duration: '1h' } };
    expect((await world.discord.postSlashCommand(url, other, silence)).status).toBe(401);
    expect((await world.discord.postSlashCommand(url, KEYS, silence, { signatureOverride: 'deadbeef' })).status).toBe(401);
    expect((await world.discord.postSlashCommand(url, KEYS, silence, { signedBody: '{"type":1}' })).status).toBe(401);
    expect((await world.discord.postPing(url, other)).status).toBe(401);
    const sixMinutesAgo = String(Math.floor(Date.now() / 1000) - 360);
    expect((await world.discord.postSlashCommand(url, KEYS, silence, { timestamp: sixMinutesAgo })).status).toBe(401);
    expect(await x.app.alerts.store.activeSilences()).toEqual([]);

    // A signed button press acts like the gateway's.
    await invalidMessage();
    const root = await oneRoot();
    const ack = await world.discord.postButton(url, KEYS, aliceAcksXm1(root));
    expect(ack.body).toMatchObject({ type: 4, data: { content: 'XM-1: Acknowledged by alice.', flags: EPHEMERAL } });
    await waitFor('the ack reply', () => threadTexts(root).includes('Acknowledged by alice.'));
  });
});

describe('Discord faults', () => {
  it('loses and doubles nothing through 429s with retry_after, 5xx (also after the write) and a gateway reconnect', async () => {
    const firstConnection = world.discord.connections.length;
    const x = await start();
    // The root: rate limited, then posted but its answer lost (the REST client retries the POST).
    world.discord.failNext('createMessage', 1, { status: 429, retryAfter: 1 });
    world.discord.failNext('createMessage', 1, { status: 502, apply: true });
    // The thread: rate limited, then created but its answer lost (the retry gets 160004).
    world.discord.failNext('startThread', 1, { status: 429, retryAfter: 0.5, scope: 'shared' });
    world.discord.failNext('startThread', 1, { status: 502, apply: true });
    const { msgHash } = await invalidMessage();
    const root = await oneRoot();
    expect(JSON.stringify(root.embeds)).toContain(msgHash);
    await waitFor('the thread', () => latest(root).thread);

    // The client loses its connection; an ack typed meanwhile reaches it when it resumes.
    const connections = world.discord.connections.length;
    world.discord.reconnectClients('drop');
    const ack = world.discord.slashCommand({
      userId: ALICE,
      username: 'alice',
      roles: [ONCALL_ROLE],
      subcommand: 'ack',
      options: { id: 'XM-1' },
    });
    await waitFor('the resume', () => world.discord.connections.length > connections && world.discord.connections.at(-1)!.resumed, 10_000);
    expect((await world.discord.answer(ack.id)).content).toBe('XM-1: Acknowledged by alice.');

    // Discord fails the root edit after the reply went out (more 5xx than the REST client retries).
    world.discord.failNext('editMessage', 4, { status: 503 });
    expect(await say({ subcommand: 'escalate', options: { id: 'XM-1' } })).toBe('XM-1: Escalated by alice (level 1).');
    await waitFor(
      'the escalation reply and the root edit',
      () => threadTexts(root).some((t) => t.includes('Escalated by alice')) && field(latest(root), 'State')?.includes('escalation level 1'),
      15_000,
    );
    await new Promise((r) => setTimeout(r, 1000));

    expect(roots()).toHaveLength(1);
    expect(world.discord.callsOf('startThread').map((c) => c.status)).toEqual([400]);
    expect(threadTexts(root)).toEqual(['Acknowledged by alice.', `<@&${ONCALL_ROLE}> Escalated by alice (level 1).`]);
    expect(world.discord.faultedCalls.map((c) => c.route)).toEqual([
      'createMessage',
      'createMessage',
      'startThread',
      'startThread',
      'editMessage',
      'editMessage',
      'editMessage',
      'editMessage',
    ]);
    expect(world.discord.connections.slice(firstConnection).filter((c) => c.identified)).toHaveLength(1);
    expect((await x.app.alerts.store.audit('XM-1')).map((e) => e.action)).toEqual(['opened', 'ack', 'escalate']);
  });
});

describe('Discord thread', () => {
  it('names a thread the first reply had to start after the alert, as the root would have', async () => {
    await start();
    // More 5xx than the REST client retries: the root goes out without its thread.
    world.discord.failNext('startThread', 4, { status: 503 });
    await invalidMessage();
    const root = await oneRoot();
    expect(await say({ subcommand: 'ack', options: { id: 'XM-1' } })).toBe('XM-1: Acknowledged by alice.');
    await waitFor('the thread with the ack', () => threadTexts(root).includes('Acknowledged by alice.'), 15_000);
    expect(latest(root).thread?.name).toMatch(/^XM-1 Invalid executing message/);
  });
});

describe('Discord authentication', () => {
  it('posts the alert once Discord stops answering 401 (its REST client forgets the token on a 401)', async () => {
    await start();
    world.discord.failNext('createMessage', 2, { status: 401 });
    const { msgHash } = await invalidMessage();
    const root = await oneRoot();
    expect(JSON.stringify(root.embeds)).toContain(msgHash);
    expect(world.discord.faultedCalls.map((c) => [c.route, (c.fault as { status: number }).status])).toEqual([
      ['createMessage', 401],
      ['createMessage', 401],
    ]);
    expect(roots()).toHaveLength(1);
  });
});

describe('npm run register-commands', () => {
  it('registers /xmsg with every sub-command in the guild, and globally without DISCORD_GUILD_ID', async () => {
    const run = (env: Record<string, string>) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'commands/register.ts'], {
        env: {
          PATH: process.env.PATH ?? '',
          DISCORD_BOT_TOKEN: TOKEN,
          DISCORD_APPLICATION_ID: APP_ID,
          DISCORD_API_URL: world.discord.apiUrl,
          ...env,
        },
      });
    const [guild, global, bad] = await Promise.all([
      run({ DISCORD_GUILD_ID: GUILD }),
      run({}),
      run({ DISCORD_BOT_TOKEN: 'wrong-token' }).catch((e: { code: number; stderr: string }) => e),
    ]);
    expect(guild.stdout).toMatch(new RegExp(`registered /xmsg \\(\\d+\\) in guild ${GUILD}`));
    const [cmd] = world.discord.registeredCommands(GUILD) as Array<{ name: string; options: Array<{ name: string; type: number }> }>;
    expect(cmd!.name).toBe('xmsg');
    // Usable in servers only: not offered in DMs, not installable to a user.
    expect(cmd).toMatchObject({ contexts: [0], integration_types: [0] });
    expect(cmd!.options.map((o) => o.name)).toEqual([
      'help',
      'status',
      'list',
      'ack',
      'escalate',
      'resolve',
      'silence',
      'unsilence',
      'health',
      'failsafe',
    ]);
    expect(cmd!.options.every((o) => o.type === 1)).toBe(true);
    const silence = cmd!.options.find((o) => o.name === 'silence') as unknown as { options: Array<{ name: string }> };
    expect(silence.options.map((o) => o.name)).toEqual(['target', 'duration', 'at', 'reason']);
    expect(global.stdout).toContain('globally');
    expect(world.discord.registeredCommands('global')).toHaveLength(1);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain('register-commands:');
  });
});

/** A message that is not one of xmsg's alerts, for a button press that names none. */
function fakeMessage(): FakeMessage {
  return textMessage({
    id: '1500000000000000001',
    channel_id: CHANNEL,
    author: { id: '1', username: 'x', global_name: null, discriminator: '0', avatar: null },
    content: 'x',
  });
}
