import { App, type BlockAction, type ButtonAction, LogLevel, type SlashCommand, verifySlackRequest } from '@slack/bolt';
import { ErrorCode, type Logger, type WebAPIPlatformError, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BlockJson,
  type FakeSlack,
  IDENTITY,
  sendBlockAction,
  sendSlashCommand,
  signSlackRequest,
  startFakeSlack,
} from './fakes/slack.js';

const TOKEN = 'xoxb-test-token';
const SECRET = 'test-signing-secret';
const CHANNEL = 'C0ALERTS';
const ONCALL = 'S0ONCALL';

/** The fake answers invalid blocks with `[ERROR]` messages and WebClient logs them; tests read them from the error. */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };

const alertBlocks = (id: string, state = 'open'): BlockJson[] => [
  { type: 'header', text: { type: 'plain_text', text: `${id} CRITICAL` } },
  { type: 'section', text: { type: 'mrkdwn', text: `*State*\n${state}` } },
  {
    type: 'actions',
    block_id: `xmsg_actions_${id}`,
    elements: [
      { type: 'button', action_id: 'xmsg_ack', text: { type: 'plain_text', text: 'Acknowledge' }, value: id, style: 'primary' },
      { type: 'button', action_id: 'xmsg_resolve', text: { type: 'plain_text', text: 'Resolve' }, value: id },
    ],
  },
];

/** Polls until `probe` returns something truthy; Bolt's respond() runs after the ack has been answered. */
async function eventually<T>(probe: () => T | undefined | false, ms = 2000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let fake: FakeSlack;
let client: WebClient;

beforeAll(async () => {
  fake = await startFakeSlack({
    token: TOKEN,
    usergroups: { [ONCALL]: ['U0ALICE', 'U0BOB'] },
    users: { U0ALICE: { name: 'alice', realName: 'Alice Ops' } },
  });
  // The options xmsg's Slack adapter uses: the outbox retries, so the client must not.
  client = new WebClient(TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: quiet });
});
afterAll(async () => {
  await fake?.stop();
});

describe('fake Slack Web API through the real WebClient', () => {
  beforeEach(() => fake.reset());

  it('posts a root, replies in its thread and edits the root', async () => {
    const root = await client.chat.postMessage({ channel: CHANNEL, text: 'XM-1 open', blocks: alertBlocks('XM-1') });
    expect(root).toMatchObject({ ok: true, channel: CHANNEL, message: { text: 'XM-1 open', bot_id: IDENTITY.botId } });
    expect(root.ts).toMatch(/^\d{10}\.\d{6}$/);
    const reply = await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts!, text: 'Acknowledged by alice' });
    expect(reply.ts! > root.ts!).toBe(true);
    await client.chat.update({ channel: CHANNEL, ts: root.ts!, text: 'XM-1 acknowledged', blocks: alertBlocks('XM-1', 'acknowledged') });

    const [stored, ...others] = fake.channelMessages(CHANNEL);
    expect(others).toEqual([]);
    expect(stored).toMatchObject({ ts: root.ts, text: 'XM-1 acknowledged', edits: 1, history: [{ text: 'XM-1 open' }] });
    expect(JSON.stringify(stored!.blocks)).toContain('acknowledged');
    expect(fake.threadReplies(CHANNEL, root.ts!)).toMatchObject([{ ts: reply.ts, threadTs: root.ts, text: 'Acknowledged by alice' }]);
    // WebClient sends a form body with blocks as a JSON string; the record holds them as objects again.
    expect(fake.callsOf('chat.postMessage')[0]!.args.blocks).toEqual(alertBlocks('XM-1'));
    expect(fake.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage', 'chat.update']);
  });

  it('refuses a reply to a thread that does not exist and an edit of an unknown message', async () => {
    await expect(client.chat.postMessage({ channel: CHANNEL, thread_ts: '1700000000.000100', text: 'too early' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'thread_not_found' },
    });
    await expect(client.chat.update({ channel: CHANNEL, ts: '1700000000.000100', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    expect(fake.channelMessages(CHANNEL)).toEqual([]);
    expect(fake.calls.map((c) => c.response.error)).toEqual(['thread_not_found', 'message_not_found']);
  });

  it('deletes as Slack does: a root with replies leaves a tombstone that keeps its thread; one without is gone', async () => {
    const kept = await client.chat.postMessage({ channel: CHANNEL, text: 'XM-1 open' });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: kept.ts!, text: 'Acknowledged by alice' });
    const lone = await client.chat.postMessage({ channel: CHANNEL, text: 'XM-2 open' });
    expect(await client.chat.delete({ channel: CHANNEL, ts: kept.ts! })).toMatchObject({ ok: true, channel: CHANNEL, ts: kept.ts });
    fake.deleteMessage(CHANNEL, lone.ts!); // a person, in the client

    // The tombstone: no longer a message to edit or delete, still a thread to reply in.
    await expect(client.chat.update({ channel: CHANNEL, ts: kept.ts!, text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    await expect(client.chat.delete({ channel: CHANNEL, ts: kept.ts! })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    const inKept = await client.chat.postMessage({ channel: CHANNEL, thread_ts: kept.ts!, text: 'Resolved by alice' });
    expect(inKept.message?.thread_ts).toBe(kept.ts);
    expect(fake.channelMessages(CHANNEL)).toMatchObject([{ ts: kept.ts, text: 'This message was deleted.', tombstone: true }]);
    const history = await client.conversations.history({ channel: CHANNEL });
    expect(history.messages).toMatchObject([{ ts: kept.ts, subtype: 'tombstone', reply_count: 2 }]);

    // A reply to a root deleted outright is not refused: Slack posts it in the channel, and its answer has no thread_ts.
    const stray = await client.chat.postMessage({ channel: CHANNEL, thread_ts: lone.ts!, text: 'Acknowledged by bob' });
    expect(stray.ok).toBe(true);
    expect(stray.message?.thread_ts).toBeUndefined();
    expect(fake.channelMessages(CHANNEL).map((m) => m.text)).toEqual(['This message was deleted.', 'Acknowledged by bob']);
    await expect(client.chat.update({ channel: CHANNEL, ts: lone.ts!, text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
  });

  it("fails one thread's replies for as long as asked, and nothing else", async () => {
    const one = await client.chat.postMessage({ channel: CHANNEL, text: 'XM-1 open' });
    const stop = fake.failWhile('chat.postMessage', (args) => args.thread_ts === one.ts, { error: 'thread_not_found' });
    for (let i = 0; i < 2; i++) {
      await expect(client.chat.postMessage({ channel: CHANNEL, thread_ts: one.ts!, text: 'x' })).rejects.toMatchObject({
        data: { error: 'thread_not_found' },
      });
    }
    const two = await client.chat.postMessage({ channel: CHANNEL, text: 'XM-2 open' });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: two.ts!, text: 'Acknowledged by alice' });
    stop();
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: one.ts!, text: 'Resolved by alice' });
    expect(fake.faultedCalls).toHaveLength(2);
    expect(fake.threadReplies(CHANNEL, one.ts!).map((m) => m.text)).toEqual(['Resolved by alice']);
  });

  it('rejects blocks Slack would reject', async () => {
    const [header, section, actions] = alertBlocks('XM-1') as [BlockJson, BlockJson, BlockJson & { elements: BlockJson[] }];
    const cases: BlockJson[][] = [
      Array.from({ length: 51 }, () => ({ type: 'divider' })),
      [header, section, { ...actions, elements: [actions.elements[0]!, actions.elements[0]!] }],
      [{ ...actions, elements: [{ ...actions.elements[0]!, text: { type: 'plain_text', text: 'x'.repeat(76) } }] }],
      [{ ...actions, elements: Array.from({ length: 26 }, (_, i) => ({ ...actions.elements[0]!, action_id: `a${i}` })) }],
      [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
      [{ ...actions, elements: [{ type: 'button', text: { type: 'plain_text', text: 'no id' } }] }],
      [{ text: 'no type' } as unknown as BlockJson],
    ];
    for (const blocks of cases) {
      await expect(client.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: blocks as never })).rejects.toMatchObject({
        data: { error: 'invalid_blocks' },
      });
    }
    const err = await client.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: cases[1] as never }).catch((e: unknown) => e);
    expect((err as WebAPIPlatformError).data.response_metadata?.messages?.join()).toContain('duplicate id "xmsg_ack"');
    expect(fake.channelMessages(CHANNEL)).toEqual([]);
  });

  it('answers 429 with Retry-After, and WebClient raises its rate-limited error; nothing is posted', async () => {
    fake.failNext('chat.postMessage', 1, { status: 429, retryAfter: 2 });
    await expect(client.chat.postMessage({ channel: CHANNEL, text: 'XM-1' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 2,
    });
    expect(fake.faultedCalls).toMatchObject([
      { method: 'chat.postMessage', args: { channel: CHANNEL, text: 'XM-1' }, fault: { status: 429 } },
    ]);
    expect(fake.calls).toEqual([]);
    expect(fake.channelMessages(CHANNEL)).toEqual([]);

    await client.chat.postMessage({ channel: CHANNEL, text: 'XM-1' });
    expect(fake.channelMessages(CHANNEL).map((m) => m.text)).toEqual(['XM-1']);
  });

  it('injects 5xx, platform errors and an outage', async () => {
    fake.failNext('chat.update', 1, { status: 503 });
    fake.failNext('chat.update', 1, { error: 'fatal_error' });
    await expect(client.chat.update({ channel: CHANNEL, ts: '1', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 503,
    });
    await expect(client.chat.update({ channel: CHANNEL, ts: '1', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'fatal_error' },
    });
    fake.setDown(true);
    await expect(client.auth.test()).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503 });
    fake.setDown(false);
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });
    expect(fake.faultedCalls.map((c) => c.fault)).toEqual([{ status: 503 }, { error: 'fatal_error' }, 'down']);
    expect(fake.calls.map((c) => c.method)).toEqual(['auth.test']);
  });

  it('authenticates like Slack: bot identity, invalid_auth, not_authed, unknown_method', async () => {
    await expect(client.auth.test()).resolves.toMatchObject({
      user_id: IDENTITY.botUserId,
      bot_id: IDENTITY.botId,
      team_id: IDENTITY.teamId,
    });
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
    await expect(wrong.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    const none = new WebClient(undefined, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
    await expect(none.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(client.apiCall('chat.frobnicate')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('lists user group members and describes users', async () => {
    await expect(client.usergroups.users.list({ usergroup: ONCALL })).resolves.toMatchObject({ users: ['U0ALICE', 'U0BOB'] });
    await expect(client.usergroups.users.list({ usergroup: 'S0NOPE' })).rejects.toMatchObject({ data: { error: 'no_such_subteam' } });
    await expect(client.users.info({ user: 'U0ALICE' })).resolves.toMatchObject({
      user: { id: 'U0ALICE', name: 'alice', real_name: 'Alice Ops' },
    });
    await expect(client.users.info({ user: 'U0NOBODY' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });
    await expect(client.chat.postEphemeral({ channel: CHANNEL, user: 'U0BOB', text: 'only you' })).resolves.toMatchObject({ ok: true });
  });

  it('stores message metadata and returns it from conversations.history, newest first, a page at a time', async () => {
    const metadata = (id: string) => ({ event_type: 'xmsg_alert', event_payload: { alert_id: id, opened_at: 1700000000000 } });
    const before = await client.chat.postMessage({ channel: CHANNEL, text: 'before' });
    const posted = [];
    for (const id of ['XM-1', 'XM-2', 'XM-3'])
      posted.push(await client.chat.postMessage({ channel: CHANNEL, text: id, metadata: metadata(id) }));
    expect(posted[0]).toMatchObject({ message: { metadata: metadata('XM-1') } });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: posted[0]!.ts!, text: 'a reply: not in the channel history' });
    await client.chat.postMessage({ channel: 'C0OTHER', text: 'another channel', metadata: metadata('XM-9') });
    await expect(client.chat.postMessage({ channel: CHANNEL, text: 'x', metadata: { event_type: 'x' } as never })).rejects.toMatchObject({
      data: { error: 'invalid_metadata_format' },
    });
    // chat.update keeps the metadata it is not given.
    await client.chat.update({ channel: CHANNEL, ts: posted[2]!.ts!, text: 'XM-3 edited' });

    const first = await client.conversations.history({ channel: CHANNEL, oldest: before.ts!, limit: 2, include_all_metadata: true });
    expect(first.messages!.map((m) => [m.text, m.metadata])).toEqual([
      ['XM-3 edited', metadata('XM-3')],
      ['XM-2', metadata('XM-2')],
    ]);
    expect(first.has_more).toBe(true);
    const second = await client.conversations.history({
      channel: CHANNEL,
      oldest: before.ts!,
      limit: 2,
      include_all_metadata: true,
      cursor: first.response_metadata!.next_cursor!,
    });
    expect(second.messages).toMatchObject([
      { text: 'XM-1', ts: posted[0]!.ts, thread_ts: posted[0]!.ts, reply_count: 1, metadata: metadata('XM-1') },
    ]);
    expect(second.has_more).toBe(false);
    // `oldest` is exclusive unless `inclusive`; metadata only with include_all_metadata.
    const all = await client.conversations.history({ channel: CHANNEL, oldest: before.ts!, inclusive: true });
    expect(all.messages!.map((m) => m.text)).toEqual(['XM-3 edited', 'XM-2', 'XM-1', 'before']);
    expect(all.messages!.some((m) => m.metadata)).toBe(false);
    await expect(client.conversations.history({ channel: CHANNEL, cursor: 'bm9wZQ==' })).rejects.toMatchObject({
      data: { error: 'invalid_cursor' },
    });
    await expect(client.conversations.history({ channel: CHANNEL, oldest: 'yesterday' })).rejects.toMatchObject({
      data: { error: 'invalid_ts_oldest' },
    });

    expect(fake.callsOf('conversations.history')[1]!.args).toMatchObject({
      channel: CHANNEL,
      oldest: before.ts,
      limit: '2',
      include_all_metadata: 'true',
      cursor: first.response_metadata!.next_cursor,
    });
  });

  it('carries out a call whose answer it then loses', async () => {
    fake.failNext('chat.postMessage', 1, { lostAnswer: true });
    await expect(client.chat.postMessage({ channel: CHANNEL, text: 'XM-1' })).rejects.toMatchObject({ code: ErrorCode.RequestError });
    expect(fake.channelMessages(CHANNEL).map((m) => m.text)).toEqual(['XM-1']);
    expect(fake.faultedCalls).toMatchObject([{ method: 'chat.postMessage', fault: { lostAnswer: true } }]);
    expect(fake.callsOf('chat.postMessage')).toMatchObject([{ response: { ok: true } }]);
  });

  it('takes JSON bodies with the token in the Authorization header only', async () => {
    const post = (headers: Record<string, string>, body: object) =>
      fetch(`${fake.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    await expect(
      post({ authorization: `Bearer ${TOKEN}` }, { channel: CHANNEL, text: 'json', blocks: alertBlocks('XM-2') }),
    ).resolves.toMatchObject({ ok: true });
    await expect(post({}, { token: TOKEN, channel: CHANNEL, text: 'json' })).resolves.toEqual({ ok: false, error: 'not_authed' });
    expect(fake.channelMessages(CHANNEL)).toMatchObject([{ text: 'json', blocks: alertBlocks('XM-2') }]);
  });
});

describe('signed deliveries into a real Bolt app', () => {
  let app: App;
  let events: string;
  const commands: SlashCommand[] = [];
  const presses: Array<{ action: ButtonAction; body: BlockAction<ButtonAction> }> = [];

  beforeAll(async () => {
    fake.reset();
    app = new App({ token: TOKEN, signingSecret: SECRET, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: LogLevel.ERROR });
    app.command('/xmsg', async ({ command, ack, respond }) => {
      commands.push(command);
      await ack({ response_type: 'ephemeral', text: `you said ${command.text}` });
      await respond({ response_type: 'ephemeral', text: 'and later' });
    });
    app.action<BlockAction<ButtonAction>>('xmsg_ack', async ({ action, body, ack, respond }) => {
      presses.push({ action, body });
      await ack();
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'acknowledged' });
    });
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    const address = server.address();
    events = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/slack/events`;
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('lets Bolt check its token with auth.test at startup', async () => {
    await eventually(() => fake.callsOf('auth.test').length > 0);
    expect(fake.callsOf('auth.test')[0]!.response).toMatchObject({ ok: true, user_id: IDENTITY.botUserId });
  });

  it('delivers a slash command Bolt verifies; the ack comes back in the response and respond() reaches the response_url', async () => {
    const res = await sendSlashCommand(events, SECRET, { text: 'status XM-1', userId: 'U0ALICE', channelId: CHANNEL });
    expect(res).toMatchObject({ status: 200, body: { response_type: 'ephemeral', text: 'you said status XM-1' } });
    expect(commands.at(-1)).toMatchObject({
      command: '/xmsg',
      text: 'status XM-1',
      user_id: 'U0ALICE',
      user_name: 'alice',
      channel_id: CHANNEL,
      team_id: IDENTITY.teamId,
      api_app_id: IDENTITY.appId,
      response_url: res.responseUrl,
    });
    expect(commands.at(-1)!.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
    const [answer] = await eventually(() => fake.responsesFor(res.responseUrl).length > 0 && fake.responsesFor(res.responseUrl));
    expect(answer!.body).toEqual({ response_type: 'ephemeral', text: 'and later' });
  });

  it('delivers a button press on a stored message, with the message and the button as Slack has them', async () => {
    const root = await client.chat.postMessage({ channel: CHANNEL, text: 'XM-7 open', blocks: alertBlocks('XM-7') });
    const res = await sendBlockAction(events, SECRET, {
      userId: 'U0BOB',
      userName: 'bob',
      channelId: CHANNEL,
      messageTs: root.ts!,
      actionId: 'xmsg_ack',
    });
    expect(res).toMatchObject({ status: 200, body: '' });
    const { action, body } = presses.at(-1)!;
    expect(action).toMatchObject({
      type: 'button',
      action_id: 'xmsg_ack',
      block_id: 'xmsg_actions_XM-7',
      value: 'XM-7',
      text: { text: 'Acknowledge' },
    });
    expect(body).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0BOB', username: 'bob', team_id: IDENTITY.teamId },
      container: { type: 'message', message_ts: root.ts, channel_id: CHANNEL, is_ephemeral: false },
      channel: { id: CHANNEL },
      message: { ts: root.ts, text: 'XM-7 open' },
      response_url: res.responseUrl,
    });
    expect(body.message!.blocks).toHaveLength(3);
    await eventually(() => fake.responsesFor(res.responseUrl).length === 1);

    const reply = await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts!, text: 'in thread', blocks: alertBlocks('XM-7') });
    await sendBlockAction(events, SECRET, { userId: 'U0BOB', channelId: CHANNEL, messageTs: reply.ts!, actionId: 'xmsg_ack' });
    expect(presses.at(-1)!.body.container).toMatchObject({ message_ts: reply.ts, thread_ts: root.ts });
  });

  it('has Bolt reject a forged signature and a timestamp 6 minutes old with 401', async () => {
    const before = { commands: commands.length, presses: presses.length };
    const forged = await sendSlashCommand(events, SECRET, {
      text: 'ack XM-1',
      userId: 'U0ALICE',
      channelId: CHANNEL,
      signatureOverride: `v0=${'0'.repeat(64)}`,
    });
    const wrongSecret = await sendBlockAction(events, 'not-the-secret', {
      userId: 'U0ALICE',
      channelId: CHANNEL,
      messageTs: '1700000000.000100',
      actionId: 'xmsg_ack',
      value: 'XM-1',
    });
    const stale = await sendSlashCommand(events, SECRET, {
      text: 'ack XM-1',
      userId: 'U0ALICE',
      channelId: CHANNEL,
      timestamp: Math.floor(Date.now() / 1000) - 360,
    });
    expect([forged.status, wrongSecret.status, stale.status]).toEqual([401, 401, 401]);
    expect({ commands: commands.length, presses: presses.length }).toEqual(before);
  });

  it('signs exactly as Bolt verifies', () => {
    const body = 'command=%2Fxmsg&text=help';
    const headers = signSlackRequest(SECRET, body);
    const asBolt = {
      'x-slack-signature': headers['x-slack-signature'],
      'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']),
    };
    expect(() => verifySlackRequest({ signingSecret: SECRET, body, headers: asBolt })).not.toThrow();
    expect(() => verifySlackRequest({ signingSecret: SECRET, body: `${body}&x=1`, headers: asBolt })).toThrow(/signature mismatch/);
  });
});
