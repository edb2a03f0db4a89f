/**
 * The chat outbox under one alert's trouble and under load: a thread a platform keeps refusing is parked without
 * holding up other alerts, a deleted root is posted again, new roots go before a backlog of follow-ups, and channel
 * notices are posted once per id. Real Redis, anvil and xmsg; the loopback Slack and Discord answer as the real ones.
 */
import { type Hex, keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../src/alerts/chat-port.js';
import { emitInitiating, emitInitiatingMany, executeMessage, executeMessages, headNumber, setSafe } from '../src/devnet/devnet.js';
import { sendSlashCommand } from './fakes/slack.js';
import { SLACK_TEST, slackEnv } from './fixtures/chat.js';
import { useWorld } from './helpers/world.js';
import { metricValue, type RunningXmsg, scrape, waitFor } from './helpers/xmsg.js';

const { token: TOKEN, secret: SECRET, channel: CHANNEL } = SLACK_TEST;
const A = 971;
const B = 972;
const DISCORD_TOKEN = 'discord-delivery-token';
const APP_ID = '1100000000000000071';
const DISCORD_CHANNEL = '1210000000000000071';
const OPERATOR: Actor = { platform: 'test', userId: 'U0OPS', name: 'ops', canAct: true };

const world = useWorld({
  name: 'chat-delivery',
  chainIds: [A, B],
  slack: { token: TOKEN },
  discord: { token: DISCORD_TOKEN, applicationId: APP_ID, channelId: DISCORD_CHANNEL, heartbeatIntervalMs: 1000 },
  scope: 'test',
  holdLabels: 'each',
  mineBeforeXmsg: true,
});

const chatEnv = () => slackEnv(world, { oncall: false });
const discordEnv = () => ({
  DISCORD_BOT_TOKEN: DISCORD_TOKEN,
  DISCORD_APPLICATION_ID: APP_ID,
  DISCORD_CHANNEL_ID: DISCORD_CHANNEL,
  DISCORD_API_URL: world.discord.apiUrl,
});

function start(overrides: Record<string, string> = {}) {
  return world.startXmsg({ ...chatEnv(), XMSG_CHAT_MAX_PER_S: '50', XMSG_ESCALATE_AFTER_S: '600', ...overrides });
}

/** An invalid executing message on `on` (its identifier points at a real log of the other chain, its hash at nothing). */
async function invalidMessage(on: number): Promise<{ msgHash: Hex }> {
  const init = await emitInitiating(world.devnet.chain(on === A ? B : A));
  const msgHash = keccak256(toHex(`forged ${init.msgHash}`));
  await executeMessage(world.devnet.chain(on), init.identifier, msgHash);
  return { msgHash };
}

/** Live roots of the Slack channel (a root deleted with replies stays as a tombstone, which is not one). */
const roots = () => world.slack.channelMessages(CHANNEL).filter((m) => !m.tombstone);
const thread = (ts: string) => world.slack.threadReplies(CHANNEL, ts).map((m) => m.text);
const rootOf = (alertId: string) => roots().find((m) => m.text.includes(alertId));

async function slackRoot(alertId: string) {
  return waitFor(`the Slack root of ${alertId}`, () => rootOf(alertId));
}

async function health(x: RunningXmsg): Promise<string> {
  const res = await sendSlashCommand(`${x.baseUrl}/slack/events`, SECRET, { text: 'health', userId: 'U0ANYONE', channelId: CHANNEL });
  return (res.body as { text?: string }).text ?? '';
}

describe('chat delivery', () => {
  it("parks an alert whose Slack thread keeps failing while other alerts' roots and threads go on", async () => {
    const x = await start();
    await invalidMessage(B);
    const first = await slackRoot('XM-1');
    // Slack refuses every reply in XM-1's thread from now on, as it does for a thread it cannot find.
    world.slack.failWhile('chat.postMessage', (args) => args.thread_ts === first.ts, { error: 'thread_not_found' });
    await invalidMessage(B); // folds into XM-1: a follow-up in the refused thread
    await waitFor('the first refused reply', () => world.slack.faultedCalls.length > 0);

    await invalidMessage(A); // XM-2, and a reply in its thread
    const second = await slackRoot('XM-2');
    expect((await x.app.alerts.ack('XM-2', OPERATOR)).ok).toBe(true);
    await waitFor("XM-2's thread", () => thread(second.ts).some((t) => t.includes('Acknowledged by ops')));

    const parked = await waitFor('XM-1 parked in /xmsg health', async () => {
      const text = await health(x);
      return text.includes('parked: XM-1 on slack') ? text : undefined;
    });
    expect(parked).toContain('(slack: thread_not_found)');
    expect(parked).not.toContain('XM-2');
    // The second alert did not wait for the first one's retries: its root came while they were still going on.
    const refused = world.slack.faultedCalls.map((c) => c.at);
    const secondRootAt = world.slack.callsOf('chat.postMessage').find((c) => JSON.stringify(c.args).includes('XM-2'))!.at;
    expect(secondRootAt).toBeLessThan(refused.at(-1)!);
    // Tried once and retried a bounded number of times (the default 3), never again once parked.
    expect(refused).toHaveLength(4);
    const metrics = await scrape(x.baseUrl);
    expect(metricValue(metrics, 'xmsg_chat_parked_alerts{platform="slack"}')).toBe(1);
    expect(metricValue(metrics, 'xmsg_chat_deliveries_total{platform="slack",outcome="parked"}')).toBeGreaterThanOrEqual(1);

    // Later changes of the parked alert call Slack no more; other alerts' still do.
    const callsBefore = world.slack.calls.length;
    expect((await x.app.alerts.ack('XM-1', OPERATOR)).ok).toBe(true);
    expect((await x.app.alerts.resolve('XM-2', OPERATOR)).ok).toBe(true);
    await waitFor("XM-2's resolution", () => thread(second.ts).some((t) => t.includes('Resolved by ops')));
    expect(world.slack.faultedCalls).toHaveLength(4);
    expect(world.slack.calls.slice(callsBefore).some((c) => JSON.stringify(c.args).includes('Acknowledged'))).toBe(false);
    const page = await (await fetch(`${x.baseUrl}/metrics`)).text();
    expect(metricValue(page, 'xmsg_chat_parked_alerts{platform="slack"}')).toBe(1);
  });

  it('posts a root deleted without replies again, with a note, when its next reply would have landed outside it', async () => {
    const x = await start();
    await invalidMessage(B);
    const first = await slackRoot('XM-1');
    world.slack.deleteMessage(CHANNEL, first.ts);
    expect((await x.app.alerts.ack('XM-1', OPERATOR)).ok).toBe(true);

    const again = await waitFor('XM-1 posted again', () => roots().find((m) => m.text.includes('XM-1') && m.ts !== first.ts));
    // The note and the pending reply, merged as follow-ups are.
    await waitFor('the note and the reply in the new thread', () => thread(again.ts).length >= 1);
    expect(thread(again.ts)).toEqual(['The previous root of XM-1 was deleted; reposted.\nAcknowledged by ops.']);
    // Slack put the reply in the channel (its root was gone); xmsg took that stray message back.
    expect(roots().map((m) => m.ts)).toEqual([again.ts]);
    expect(again.text).toContain('acknowledged by ops');
    expect(await x.app.notifier.ref('slack', 'XM-1')).toEqual({ channel: CHANNEL, id: again.ts });
  });

  it('posts a root deleted with its thread kept (a tombstone) again, with a note, when its edit finds it gone', async () => {
    const x = await start();
    await invalidMessage(B);
    const first = await slackRoot('XM-1');
    expect((await x.app.alerts.ack('XM-1', OPERATOR)).ok).toBe(true);
    await waitFor('the ack in the thread', () => thread(first.ts).length === 1);
    world.slack.deleteMessage(CHANNEL, first.ts); // has a reply: stays as a tombstone holding the thread

    expect((await x.app.alerts.resolve('XM-1', OPERATOR)).ok).toBe(true);
    const again = await waitFor('XM-1 posted again', () => rootOf('XM-1'));
    expect(again.ts).not.toBe(first.ts);
    await waitFor('the note in the new thread', () => thread(again.ts).length >= 1);
    // The resolution went to the old thread (which still takes replies); the new root shows it.
    expect(thread(first.ts)).toEqual(['Acknowledged by ops.', 'Resolved by ops.']);
    expect(thread(again.ts)).toEqual(['The previous root of XM-1 was deleted; reposted.']);
    expect(again.text).toContain('resolved by ops');
  });

  it('posts a Discord root deleted by a moderator again, with a note', async () => {
    const x = await world.startXmsg({ ...discordEnv(), XMSG_CHAT_MAX_PER_S: '50', XMSG_ESCALATE_AFTER_S: '600' });
    await waitFor('the discord client to be ready', () => x.app.discordClient?.isReady(), 10_000);
    await invalidMessage(B);
    const title = (m: { embeds: Array<Record<string, unknown>> }) => String(m.embeds[0]?.title ?? '');
    const first = await waitFor('the Discord root', () => world.discord.channelMessages().find((m) => title(m).includes('XM-1')));
    world.discord.deleteMessage(DISCORD_CHANNEL, first.id);
    expect((await x.app.alerts.ack('XM-1', OPERATOR)).ok).toBe(true);

    const again = await waitFor('XM-1 posted again', () =>
      world.discord.channelMessages().find((m) => title(m).includes('XM-1') && m.id !== first.id),
    );
    await waitFor('the note in the new thread', () => world.discord.threadMessages(again.id).length >= 1);
    expect(world.discord.threadMessages(again.id).map((m) => m.content)).toEqual(['The previous root of XM-1 was deleted; reposted.']);
    // The reply went to the old thread, which outlives its starter message on Discord.
    expect(world.discord.threadMessages(first.id).map((m) => m.content)).toEqual(['Acknowledged by ops.']);
  });

  it("gets a new alert's root to Slack within 3 s behind a 300-message alert's follow-ups, at 1 post a second", async () => {
    const x = await start({ XMSG_CHAT_MAX_PER_S: '1' });
    const chainA = world.devnet.chain(A);
    const chainB = world.devnet.chain(B);
    const logs = await emitInitiatingMany(chainA, 300);
    await executeMessages(
      chainB,
      logs.map((l) => ({ identifier: l.identifier, msgHash: keccak256(toHex(`forged ${l.msgHash}`)) })),
    );
    await slackRoot('XM-1');
    // Every one of them turns cross-safe: a critical alert that pages, and 299 occurrences folding into it.
    await setSafe(chainB, await headNumber(chainB));
    await waitFor('the cross-safety alert to hold them all', async () => (await x.app.alerts.store.get('XM-2'))?.count === 300, 30_000);
    const chat = x.app.notifier.queuesByName()['chat-slack']!;
    const backlog = await chat.getJobCounts('prioritized', 'waiting', 'active');
    const sentAt = Date.now();
    const { msgHash } = await invalidMessage(A);
    const root = await waitFor('the new alert root', () =>
      world.slack.callsOf('chat.postMessage').find((c) => c.response.ok && !c.args.thread_ts && JSON.stringify(c.args).includes(msgHash)),
    );
    const latency = root.at - sentAt;
    expect(latency, `root after ${latency} ms behind ${JSON.stringify(backlog)}`).toBeLessThan(3000);

    // Follow-ups were merged: a few replies for 599 occurrences, not one each.
    // (the root itself, if it was posted after the last of them, or its last edit)
    for (const id of ['XM-1', 'XM-2']) {
      await waitFor(`${id} to show every occurrence`, () => JSON.stringify(rootOf(id)?.blocks).includes('*Occurrences*\\n300'), 30_000);
    }
    expect(thread(rootOf('XM-1')!.ts).length + thread(rootOf('XM-2')!.ts).length).toBeLessThan(20);
    // And posts were spaced by the platform's budget of calls, not of jobs.
    const posts = world.slack.callsOf('chat.postMessage').map((c) => c.at);
    for (let i = 1; i < posts.length; i++) expect(posts[i]! - posts[i - 1]!).toBeGreaterThanOrEqual(900);
  });

  it('announces a notice in every channel once per id, called twice and from two replicas', async () => {
    const env = { ...chatEnv(), ...discordEnv(), XMSG_CONSOLE: '1', XMSG_CHAT_MAX_PER_S: '50' };
    const one = await world.startXmsg(env);
    const two = await world.startXmsg(env);
    await waitFor('the discord clients to be ready', () => one.app.discordClient?.isReady() && two.app.discordClient?.isReady(), 10_000);
    const notice = { id: 'S-1', text: 'Silence S-1: chain 972 muted until 12:00 by ops.' };
    await Promise.all([one.app.notifier.announce(notice), two.app.notifier.announce(notice), one.app.notifier.announce(notice)]);
    await waitFor('the notice in Slack', () => roots().some((m) => m.text === notice.text));
    await waitFor('the notice in Discord', () => world.discord.channelMessages().some((m) => m.content === notice.text));
    const consoleNotices = async () => (await fetch(`${one.baseUrl}/console/state`).then((r) => r.json())) as { notices: unknown[] };
    await waitFor('the notice in the console', async () => (await consoleNotices()).notices.length === 1);

    // Once posted, announcing it again (its job done) posts nothing more; another id does.
    await two.app.notifier.announce(notice);
    await one.app.notifier.announce({ id: 'S-2', text: 'Silence S-2 ended by ops.' });
    await waitFor('the second notice', () => roots().some((m) => m.text === 'Silence S-2 ended by ops.'));
    await waitFor('the second notice in Discord', () =>
      world.discord.channelMessages().some((m) => m.content === 'Silence S-2 ended by ops.'),
    );
    expect(roots().filter((m) => m.text === notice.text)).toHaveLength(1);
    expect(roots().every((m) => !m.threadTs)).toBe(true);
    expect(world.discord.channelMessages().filter((m) => m.content === notice.text)).toHaveLength(1);
    expect((await consoleNotices()).notices).toMatchObject([{ key: 'S-2' }, { key: 'S-1', text: notice.text }]);
  });

  it("gets an alert's root to Slack well within a minute when its first post hangs unanswered (a hung proxy)", async () => {
    await start();
    world.slack.failNext('chat.postMessage', 1, { hang: true });
    const sentAt = Date.now();
    try {
      await invalidMessage(B);
      await waitFor('the Slack root of XM-1', () => rootOf('XM-1'), 30_000);
      const [hung] = world.slack.faultedCalls;
      const delay = Date.now() - sentAt;
      // Without a timeout the outbox would wait for Node's fetch to give up (300 s), every Slack page behind it.
      expect(delay, `root after ${delay} ms`).toBeLessThan(30_000);
      expect(hung).toMatchObject({ method: 'chat.postMessage', fault: { hang: true } });
      // The retry first looked for a root the hung call may have posted (Slack has no idempotency key), then posted once.
      const looks = world.slack.callsOf('conversations.history');
      expect(looks).toHaveLength(1);
      expect(looks[0]!.at).toBeGreaterThan(hung!.at);
      expect(roots().filter((m) => m.text.includes('XM-1'))).toHaveLength(1);
    } finally {
      world.slack.releaseHung();
    }
  });

  it("answers /xmsg within Slack's 3 s, asking to try again, while every lookup of who may act hangs unanswered", async () => {
    const x = await start({ SLACK_ONCALL_GROUP_ID: SLACK_TEST.oncallGroup, SLACK_ESCALATION_GROUP_ID: 'S0ESCALATION' });
    const endHang = world.slack.failWhile('usergroups.users.list', () => true, { hang: true });
    try {
      const sentAt = Date.now();
      const res = await sendSlashCommand(`${x.baseUrl}/slack/events`, SECRET, { text: 'ack XM-1', userId: 'U0ANYONE', channelId: CHANNEL });
      const elapsed = Date.now() - sentAt;
      expect(elapsed, `answered after ${elapsed} ms`).toBeLessThan(3000);
      expect((res.body as { text?: string }).text).toMatch(
        /^You may not ack: could not check the on-call group \(.+\) or the escalation group \(.+\); try again\.$/,
      );
    } finally {
      endHang();
      world.slack.releaseHung();
    }
  });

  it('posts a Slack thread reply once when Slack carried it out but its answer was lost, looking for it only on the retry', async () => {
    const x = await start();
    await invalidMessage(B);
    const root = await slackRoot('XM-1');
    world.slack.failNext('chat.postMessage', 1, { lostAnswer: true });
    expect((await x.app.alerts.ack('XM-1', OPERATOR)).ok).toBe(true);
    // The root is edited only once the reply is done with: after the retry that followed the lost answer.
    await waitFor('the root shows the ack', () => rootOf('XM-1')?.text.includes('acknowledged by ops'));
    expect(world.slack.faultedCalls).toHaveLength(1);
    expect(thread(root.ts)).toEqual(['Acknowledged by ops.']);
    const [reply] = world.slack.threadReplies(CHANNEL, root.ts);
    expect(reply!.metadata).toEqual({ event_type: 'xmsg_reply', event_payload: { key: 'r1' } });
    // One look, by the retry; the first attempt posted without one.
    const looks = world.slack.callsOf('conversations.replies');
    expect(looks).toHaveLength(1);
    expect(looks[0]!.args).toMatchObject({ channel: CHANNEL, ts: root.ts, include_all_metadata: 'true' });
    expect(looks[0]!.at).toBeGreaterThan(world.slack.faultedCalls[0]!.at);

    // A later reply, whose answer arrives, is posted without a look.
    expect((await x.app.alerts.resolve('XM-1', OPERATOR)).ok).toBe(true);
    await waitFor('the resolution', () => thread(root.ts).includes('Resolved by ops.'));
    expect(world.slack.callsOf('conversations.replies')).toHaveLength(1);
  });

  it('posts a Slack thread reply again when its answer was lost and the app may not read the thread (no history scope)', async () => {
    const x = await start();
    await invalidMessage(B);
    const root = await slackRoot('XM-1');
    world.slack.failNext('chat.postMessage', 1, { lostAnswer: true });
    world.slack.failNext('conversations.replies', 1, { error: 'missing_scope' });
    expect((await x.app.alerts.ack('XM-1', OPERATOR)).ok).toBe(true);
    await waitFor('the root shows the ack', () => rootOf('XM-1')?.text.includes('acknowledged by ops'));
    // Shown twice rather than never: as a root is when the app may not look.
    expect(thread(root.ts)).toEqual(['Acknowledged by ops.', 'Acknowledged by ops.']);
    expect(world.slack.faultedCalls.map((c) => c.method)).toEqual(['chat.postMessage', 'conversations.replies']);
  });

  it('posts a Slack channel notice once when Slack carried it out but its answer was lost', async () => {
    const x = await start();
    world.slack.failNext('chat.postMessage', 1, { lostAnswer: true });
    const notice = { id: 'S-7', text: 'Silence S-7: chain 972 muted until 12:00 by ops.' };
    await x.app.notifier.announce(notice);
    const chat = x.app.notifier.queuesByName()['chat-slack']!;
    await waitFor('the notice delivered', async () => (await chat.getJob('slack-notice-S-7'))?.finishedOn !== undefined);
    expect(world.slack.faultedCalls).toHaveLength(1);
    const posted = roots().filter((m) => m.text === notice.text);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.metadata).toEqual({ event_type: 'xmsg_notice', event_payload: { key: 'S-7', deployment: expect.any(String) } });
    const looks = world.slack.callsOf('conversations.history');
    expect(looks).toHaveLength(1);
    expect(looks[0]!.at).toBeGreaterThan(world.slack.faultedCalls[0]!.at);

    // A notice whose answer arrives is posted without a look.
    await x.app.notifier.announce({ id: 'S-8', text: 'Silence S-8 ended by ops.' });
    await waitFor('the second notice', () => roots().some((m) => m.text === 'Silence S-8 ended by ops.'));
    expect(world.slack.callsOf('conversations.history')).toHaveLength(1);
  });
});
