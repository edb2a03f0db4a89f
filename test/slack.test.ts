import { type Hex, keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  emitInitiating,
  emitInitiatingMany,
  executeMessage,
  executeMessages,
  mine,
  replaceBlocksFrom,
  setSafe,
  snapshot,
} from '../src/devnet/devnet.js';
import { sendBlockAction, sendSlashCommand } from './fakes/slack.js';
import { SLACK_TEST, slackEnv } from './fixtures/chat.js';
import { useWorld } from './helpers/world.js';
import { cleanRedis, metricValue, type RunningXmsg, scrape, waitFor } from './helpers/xmsg.js';

const { token: TOKEN, secret: SECRET, channel: CHANNEL, oncallGroup: ONCALL } = SLACK_TEST;
const A = 951;
const B = 952;
const ONCALL_USER = 'U0ONCALL';
const ADMIN = 'U0ADMIN';
const STRANGER = 'U0STRANGER';
const ESCALATION = 'S0ESCALATION';
const BOSS = 'U0BOSS';

const world = useWorld({
  name: 'slack',
  chainIds: [A, B],
  slack: { token: TOKEN, usergroups: { [ONCALL]: [ONCALL_USER], [ESCALATION]: [BOSS] } },
  scope: 'test',
  holdLabels: 'each',
  mineBeforeXmsg: true,
});

function start(overrides: Record<string, string> = {}) {
  return world.startXmsg({
    ...slackEnv(world),
    SLACK_ADMIN_USER_IDS: ADMIN,
    XMSG_CHAT_MAX_PER_S: '50',
    XMSG_ESCALATE_AFTER_S: '600',
    ...overrides,
  });
}

const events = (x: RunningXmsg) => `${x.baseUrl}/slack/events`;
const roots = () => world.slack.channelMessages(CHANNEL);
const thread = (ts: string) => world.slack.threadReplies(CHANNEL, ts).map((m) => m.text);
const mentions = (ts: string) => thread(ts).filter((t) => t.includes(`<!subteam^${ONCALL}>`));

async function invalidMessage(): Promise<{ msgHash: Hex; blockNumber: bigint }> {
  const init = await emitInitiating(world.devnet.chain(A));
  const msgHash = keccak256(toHex(`forged ${init.msgHash}`));
  const exec = await executeMessage(world.devnet.chain(B), init.identifier, msgHash);
  return { msgHash, blockNumber: exec.blockNumber };
}

async function oneRoot() {
  const [root] = await waitFor('the root message', () => (roots().length ? roots() : undefined));
  return root!;
}

function buttonsOf(root: { blocks?: unknown[] }): string[] {
  const actions = (root.blocks ?? []).find((b) => (b as { type: string }).type === 'actions') as
    | { elements: Array<{ action_id: string }> }
    | undefined;
  return actions?.elements.map((e) => e.action_id) ?? [];
}

describe('alerts in Slack', () => {
  it('posts one root message with the four buttons for an invalid message, then follows it in the thread', async () => {
    const x = await start();
    const B_ = world.devnet.chain(B);
    const before = await snapshot(B_);
    const { msgHash } = await invalidMessage();
    const root = await oneRoot();
    expect(root.text).toContain('Invalid executing message on chain 952');
    expect(JSON.stringify(root.blocks)).toContain(msgHash);
    expect(buttonsOf(root)).toEqual(['xmsg_ack', 'xmsg_escalate', 'xmsg_silence_1h', 'xmsg_resolve']);

    await replaceBlocksFrom(B_, before);
    await mine(B_);
    await waitFor('the replacement in the thread', () => thread(root.ts).some((t) => t.includes('was replaced')));
    expect(roots()).toHaveLength(1);
    expect(x.events.map((e) => e.type)).not.toContain('cross_safety_violation');
  });

  it('acknowledges from the button of an on-call member: thread reply, root edited, no escalation', async () => {
    await start({ XMSG_ESCALATE_AFTER_S: '2', XMSG_ESCALATION_REPEAT_S: '2' });
    await invalidMessage();
    const root = await oneRoot();
    const x = world.running[0]!;
    const before = await scrape(x.baseUrl);
    expect(metricValue(before, 'xmsg_alerts_open{severity="critical",state="open"}')).toBe(1);
    expect(metricValue(before, 'xmsg_job_latency_seconds_count{queue="chat-slack"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(before, 'xmsg_queue_jobs{queue="escalations",state="delayed"}')).toBe(1);
    const res = await sendBlockAction(events(x), SECRET, {
      userId: ONCALL_USER,
      userName: 'alice',
      channelId: CHANNEL,
      messageTs: root.ts,
      actionId: 'xmsg_ack',
      value: 'XM-1',
    });
    expect(res.status).toBe(200);
    await waitFor('the ack reply', () => thread(root.ts).some((t) => t.includes('Acknowledged by alice')));
    await waitFor('the root edit', () => world.slack.channelMessages(CHANNEL)[0]!.text.includes('acknowledged by alice'));
    await waitFor('the ephemeral answer', () => world.slack.responsesFor(res.responseUrl).length > 0);
    await new Promise((r) => setTimeout(r, 3000));
    expect(mentions(root.ts)).toEqual([]);
    const after = await scrape(x.baseUrl);
    expect(metricValue(after, 'xmsg_alerts_open{severity="critical",state="open"}')).toBe(0);
    expect(metricValue(after, 'xmsg_alerts_open{severity="critical",state="acknowledged"}')).toBe(1);
    expect(metricValue(after, 'xmsg_queue_jobs{queue="escalations",state="delayed"}')).toBe(0);

    const detail = (await (await fetch(`${x.baseUrl}/api/alerts/XM-1`)).json()) as {
      alert: { state: string };
      audit: Array<{ who: string; action: string }>;
    };
    expect(detail.alert.state).toBe('acknowledged');
    expect(detail.audit.map((e) => e.action)).toEqual(['opened', 'ack']);
    expect(detail.audit[1]!.who).toBe(`alice (slack:${ONCALL_USER})`);
    const acked = (await (await fetch(`${x.baseUrl}/api/alerts?state=acked`)).json()) as { alerts: Array<{ id: string }> };
    expect(acked.alerts.map((a) => a.id)).toEqual(['XM-1']);
    expect((await fetch(`${x.baseUrl}/api/alerts?state=bogus`)).status).toBe(400);
  });

  it('refuses the button to someone outside the on-call group and leaves the alert as it was', async () => {
    const x = await start();
    await invalidMessage();
    const root = await oneRoot();
    const res = await sendBlockAction(events(x), SECRET, {
      userId: STRANGER,
      userName: 'mallory',
      channelId: CHANNEL,
      messageTs: root.ts,
      actionId: 'xmsg_ack',
      value: 'XM-1',
    });
    const [answer] = await waitFor('the refusal', () =>
      world.slack.responsesFor(res.responseUrl).length ? world.slack.responsesFor(res.responseUrl) : undefined,
    );
    expect(JSON.stringify(answer)).toContain('You may not ack');
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('open');
    expect(thread(root.ts)).toEqual([]);
  });

  it('mentions the on-call group when nobody acknowledges, and again after the repeat interval', async () => {
    await start({ XMSG_ESCALATE_AFTER_S: '1', XMSG_ESCALATION_REPEAT_S: '2' });
    await invalidMessage();
    const root = await oneRoot();
    expect(root.text).not.toContain('<!subteam^');
    await waitFor('the first page', () => mentions(root.ts).length === 1, 10_000);
    await waitFor('the repeated page', () => mentions(root.ts).length === 2, 10_000);
  });

  it('pages in the first post for a cross-safety violation', async () => {
    await start();
    const { blockNumber } = await invalidMessage();
    await oneRoot();
    await setSafe(world.devnet.chain(B), blockNumber);
    const violation = await waitFor('the violation root', () => roots().find((m) => m.text.includes('CONSENSUS BUG')));
    expect(violation.text).toContain(`<!subteam^${ONCALL}>`);
  });

  it('resolves an unpromoted alert in its thread once the message is promoted', async () => {
    await start({ XMSG_PROMOTION_DEADLINE_S: '1' });
    const init = await emitInitiating(world.devnet.chain(A));
    const exec = await executeMessage(world.devnet.chain(B), init.identifier, init.msgHash);
    const root = await oneRoot();
    expect(root.text).toContain('not cross-safe in time');
    await setSafe(world.devnet.chain(B), exec.blockNumber);
    await waitFor('auto-resolution', () => thread(root.ts).some((t) => t.includes('resolved automatically')));
    await waitFor('the root shows resolved', () => roots()[0]!.text.includes('resolved by xmsg'));
  });

  it('folds 300 invalid messages of one block into one alert with count 300', async () => {
    const x = await start();
    const inits = await emitInitiatingMany(world.devnet.chain(A), 300);
    await executeMessages(
      world.devnet.chain(B),
      inits.map((i) => ({ identifier: i.identifier, msgHash: keccak256(toHex(`forged ${i.msgHash}`)) })),
    );
    await waitFor('count 300', async () => (await x.app.alerts.store.get('XM-1'))?.count === 300, 30_000);
    await waitFor('the root shows 300', () => JSON.stringify(roots()[0]?.blocks ?? []).includes('Occurrences*\\n300'));
    expect(roots()).toHaveLength(1);
    expect(await x.app.alerts.store.get('XM-2')).toBeUndefined();
  });

  it('delivers once and in order when Slack answers 429 twice', async () => {
    const x = await start();
    world.slack.failNext('chat.postMessage', 2, { status: 429, retryAfter: 1 });
    const { msgHash } = await invalidMessage();
    const root = await oneRoot();
    await x.app.alerts.ack('XM-1', { platform: 'slack', userId: ADMIN, name: 'admin', canAct: true });
    await waitFor('the ack reply', () => thread(root.ts).some((t) => t.includes('Acknowledged by admin')));
    expect(roots()).toHaveLength(1);
    expect(JSON.stringify(root.blocks)).toContain(msgHash);
    expect(world.slack.faultedCalls.length).toBe(2);
  });

  it('adopts the root Slack posted when its answer was lost, on the next replica, instead of posting a second', async () => {
    const first = await start();
    world.slack.failNext('chat.postMessage', 1, { lostAnswer: true });
    await invalidMessage();
    await waitFor('the root posted, its answer lost', () => world.slack.faultedCalls.length === 1);
    const [root] = roots();
    expect(root!.metadata).toEqual({ event_type: 'xmsg_alert', event_payload: { alert_id: 'XM-1', opened_at: expect.any(Number) } });
    // The delivering replica goes away before its retry (1 s later) can change anything; another takes over.
    world.slack.setDown(true);
    await world.stopXmsg(first);
    world.slack.setDown(false);
    const second = await start();
    await waitFor('the root adopted', async () => (await second.app.notifier.ref('slack', 'XM-1'))?.id === root!.ts);
    expect(roots()).toHaveLength(1);
    expect(world.slack.callsOf('conversations.history')[0]!.args).toMatchObject({
      channel: CHANNEL,
      include_all_metadata: 'true',
      limit: '15',
    });
    // The thread follows the adopted root.
    await second.app.alerts.ack('XM-1', { platform: 'slack', userId: ADMIN, name: 'admin', canAct: true });
    await waitFor('the ack reply', () => thread(root!.ts).some((t) => t.includes('Acknowledged by admin')));
    expect(roots()).toHaveLength(1);
  });

  it('posts the root anyway when the Slack app may not read the channel history (an install without channels:history)', async () => {
    await start();
    world.slack.failNext('chat.postMessage', 1, { status: 500 });
    world.slack.failNext('conversations.history', 1, { error: 'missing_scope' });
    await invalidMessage();
    const root = await oneRoot();
    expect(root.metadata?.event_payload).toMatchObject({ alert_id: 'XM-1' });
    expect(world.slack.faultedCalls.map((c) => c.method)).toEqual(['chat.postMessage', 'conversations.history']);
  });

  it('makes one root message per alert with two replicas', async () => {
    await start();
    await start();
    await invalidMessage();
    await oneRoot();
    await new Promise((r) => setTimeout(r, 1500));
    expect(roots()).toHaveLength(1);
  });
});

describe('/xmsg in Slack', () => {
  const say = async (x: RunningXmsg, text: string, userId = ONCALL_USER) => {
    const res = await sendSlashCommand(events(x), SECRET, { text, userId, userName: 'alice', channelId: CHANNEL });
    expect(res.status).toBe(200);
    const body = res.body as { response_type?: string; text?: string };
    expect(body.response_type).toBe('ephemeral');
    return body.text ?? '';
  };

  it('answers every sub-command', async () => {
    const x = await start();
    const { msgHash } = await invalidMessage();
    await oneRoot();

    expect(await say(x, 'help')).toContain('/xmsg silence');
    expect(await say(x, 'list')).toContain('XM-1 [critical]');
    expect(await say(x, 'status XM-1')).toContain(msgHash);
    expect(await say(x, `status ${msgHash}`)).toContain('invalid');
    expect(await say(x, 'health')).toMatch(/chain 951: healthy; latest \d+/);
    expect(await say(x, 'ack XM-1')).toContain('Acknowledged by alice');
    expect(await say(x, 'list acked')).toContain('XM-1');
    expect(await say(x, 'escalate XM-1')).toContain('Escalated by alice');
    expect(await say(x, 'silence 951 2h noisy')).toMatch(/S-\d+: new alerts matching chain 951/);
    expect(await say(x, 'list silenced')).toContain('chain 951 muted until');
    expect(await say(x, 'unsilence S-1')).toContain('S-1 ended');
    expect(await say(x, 'resolve XM-1')).toContain('Resolved by alice');
    expect(await say(x, 'list all')).toContain('resolved');
  });

  it('looks up a message xmsg does not track on the chains', async () => {
    const x = await start();
    const init = await emitInitiating(world.devnet.chain(A));
    // Executed before this xmsg started: it never tracked it.
    const exec = await executeMessage(world.devnet.chain(B), init.identifier, init.msgHash);
    // And a log forged through a faulty inbox, its transaction declaring nothing: checked now, it is not `valid`.
    const forgedInit = await emitInitiating(world.devnet.chain(A));
    const forged = await executeMessage(world.devnet.chain(B), forgedInit.identifier, forgedInit.msgHash, { forged: true, accessList: [] });
    await world.stopXmsg(x);
    await cleanRedis(world.prefix);
    const fresh = await start();
    expect(await say(fresh, `status ${exec.txHash}`)).toContain('valid');
    expect(await say(fresh, `status ${init.msgHash}`)).toContain('checked now (not tracked)');
    const forgedStatus = await say(fresh, `status ${forged.txHash}`);
    expect(forgedStatus).toContain('access_list_mismatch');
    expect(forgedStatus).toContain('access list missing');
  });

  it('answers bad input with a clear error and the usage', async () => {
    const x = await start();
    expect(await say(x, 'frobnicate')).toContain('unknown sub-command');
    expect(await say(x, 'ack XM-999')).toContain('No alert XM-999');
    expect(await say(x, 'silence 951 forever')).toContain('/xmsg silence &lt;chain-id');
    expect(await say(x, 'ack XM-1 XM-2')).toContain('too many arguments');
    expect(await say(x, 'resolve XM-1', STRANGER)).toContain('You may not resolve');
    expect(await say(x, 'status <!channel>')).toContain('&lt;!channel&gt;');
  });

  it('rejects forged and stale signatures with 401 and does nothing', async () => {
    const x = await start();
    const forged = await sendSlashCommand(events(x), SECRET, {
      text: 'silence 951 1h',
      userId: ADMIN,
      channelId: CHANNEL,
      signatureOverride: 'v0=deadbeef',
    });
    expect(forged.status).toBe(401);
    const stale = await sendSlashCommand(events(x), SECRET, {
      text: 'silence 951 1h',
      userId: ADMIN,
      channelId: CHANNEL,
      timestamp: Math.floor(Date.now() / 1000) - 360,
    });
    expect(stale.status).toBe(401);
    expect(await x.app.alerts.store.activeSilences()).toEqual([]);
  });
});

describe('who may act in Slack with an escalation group', () => {
  const startWithEscalation = (overrides: Record<string, string> = {}) => start({ SLACK_ESCALATION_GROUP_ID: ESCALATION, ...overrides });
  const escalationPages = (ts: string) => thread(ts).filter((t) => t.includes(`<!subteam^${ESCALATION}>`));
  const allPages = (ts: string) => thread(ts).filter((t) => t.includes('<!subteam^'));
  const onlyLookupOf = (group: string) => (args: Record<string, unknown>) => args.usergroup === group;
  const say = async (x: RunningXmsg, text: string, userId: string, userName: string) => {
    const res = await sendSlashCommand(events(x), SECRET, { text, userId, userName, channelId: CHANNEL });
    expect(res.status).toBe(200);
    return (res.body as { text?: string }).text ?? '';
  };

  it('lets a member of only the escalation group, paged at level 3, acknowledge from the button: the pages stop', async () => {
    const x = await startWithEscalation({ XMSG_ESCALATE_AFTER_S: '1', XMSG_ESCALATION_REPEAT_S: '1' });
    await invalidMessage();
    const root = await oneRoot();
    await waitFor('the escalation page', () => escalationPages(root.ts).length >= 1, 15_000);
    const res = await sendBlockAction(events(x), SECRET, {
      userId: BOSS,
      userName: 'bob',
      channelId: CHANNEL,
      messageTs: root.ts,
      actionId: 'xmsg_ack',
      value: 'XM-1',
    });
    const [answer] = await waitFor('the ephemeral answer', () =>
      world.slack.responsesFor(res.responseUrl).length ? world.slack.responsesFor(res.responseUrl) : undefined,
    );
    expect(answer!.body.text).toBe('XM-1: Acknowledged by bob.');
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('acknowledged');
    // The thread is delivered in order: a page sent before the ack shows before its reply.
    await waitFor('the ack reply', () => thread(root.ts).some((t) => t.includes('Acknowledged by bob')));
    const pagesAtAck = allPages(root.ts).length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(allPages(root.ts)).toHaveLength(pagesAtAck);
    expect(metricValue(await scrape(x.baseUrl), 'xmsg_queue_jobs{queue="escalations",state="delayed"}')).toBe(0);
  });

  it('lets a member of only the escalation group run /xmsg ack', async () => {
    const x = await startWithEscalation();
    await invalidMessage();
    await oneRoot();
    expect(await say(x, 'ack XM-1', BOSS, 'bob')).toBe('XM-1: Acknowledged by bob.');
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('acknowledged');
  });

  it('refuses someone in neither group, naming both groups, and leaves the alert as it was', async () => {
    const x = await startWithEscalation();
    await invalidMessage();
    const root = await oneRoot();
    expect(await say(x, 'ack XM-1', STRANGER, 'mallory')).toBe(
      `You may not ack: you are a member of neither the on-call user group ${ONCALL} nor the escalation user group ${ESCALATION}.`,
    );
    expect((await x.app.alerts.store.get('XM-1'))?.state).toBe('open');
    expect(thread(root.ts)).toEqual([]);
  });

  it('admits a member of one group while the lookup of the other fails, and asks to try again only when no group admits', async () => {
    // Each replica caches the member lists it read: a fresh one for each failing group.
    const oncallDown = world.slack.failWhile('usergroups.users.list', onlyLookupOf(ONCALL), { error: 'missing_scope' });
    const first = await startWithEscalation();
    await invalidMessage();
    await oneRoot();
    expect(await say(first, 'escalate XM-1', BOSS, 'bob')).toBe('XM-1: Escalated by bob (level 1).');
    expect(await say(first, 'ack XM-1', STRANGER, 'mallory')).toBe(
      'You may not ack: could not check the on-call group (An API error occurred: missing_scope); try again.',
    );
    oncallDown();
    world.slack.failWhile('usergroups.users.list', onlyLookupOf(ESCALATION), { error: 'missing_scope' });
    const second = await startWithEscalation();
    expect(await say(second, 'ack XM-1', ONCALL_USER, 'alice')).toBe('XM-1: Acknowledged by alice.');
    expect(await say(second, 'resolve XM-1', STRANGER, 'mallory')).toBe(
      'You may not resolve: could not check the escalation group (An API error occurred: missing_scope); try again.',
    );
    expect((await second.app.alerts.store.get('XM-1'))?.state).toBe('acknowledged');
  });
});
