import { Queue } from 'bullmq';
import { keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../src/alerts/chat-port.js';
import { emitInitiating, executeMessage } from '../src/devnet/devnet.js';
import { type FakeMessage, sendBlockAction, sendSlashCommand } from './fakes/slack.js';
import { SLACK_TEST, slackEnv } from './fixtures/chat.js';
import { useWorld } from './helpers/world.js';
import { type RunningXmsg, waitFor } from './helpers/xmsg.js';

// Silences end by themselves (docs/ARCHITECTURE.md §3): what they muted is posted or told in its thread and pages
// again, through the real parts (Redis, anvil, BullMQ, the loopback Slack).

const { token: TOKEN, secret: SECRET, channel: CHANNEL, oncallGroup: ONCALL } = SLACK_TEST;
const A = 981;
const B = 982;
const ONCALL_USER = 'U0ONCALL';
const ESCALATE_AFTER_S = 2;

const world = useWorld({
  name: 'silences',
  chainIds: [A, B],
  slack: { token: TOKEN, usergroups: { [ONCALL]: [ONCALL_USER] } },
  scope: 'test',
  holdLabels: 'each',
  mineBeforeXmsg: true,
});

function start(overrides: Record<string, string> = {}) {
  return world.startXmsg({
    ...slackEnv(world),
    XMSG_CHAT_MAX_PER_S: '50',
    XMSG_ESCALATE_AFTER_S: String(ESCALATE_AFTER_S),
    XMSG_ESCALATION_REPEAT_S: '600',
    ...overrides,
  });
}

const isRoot = (m: FakeMessage) => m.metadata?.event_type === 'xmsg_alert';
const rootOf = (alertId: string) =>
  world.slack.channelMessages(CHANNEL).find((m) => isRoot(m) && m.metadata?.event_payload?.alert_id === alertId);
const roots = () => world.slack.channelMessages(CHANNEL).filter(isRoot);
/** Channel posts that are not alerts: the announcements. */
const announcements = () =>
  world.slack
    .channelMessages(CHANNEL)
    .filter((m) => !isRoot(m))
    .map((m) => m.text);
const thread = (ts: string) => world.slack.threadReplies(CHANNEL, ts).map((m) => m.text);
const pages = (ts: string) => thread(ts).filter((t) => t.includes(`<!subteam^${ONCALL}>`));
const alice: Actor = { platform: 'slack', userId: ONCALL_USER, name: 'alice', canAct: true };

async function say(x: RunningXmsg, text: string): Promise<string> {
  const res = await sendSlashCommand(`${x.baseUrl}/slack/events`, SECRET, {
    text,
    userId: ONCALL_USER,
    userName: 'alice',
    channelId: CHANNEL,
  });
  expect(res.status).toBe(200);
  return (res.body as { text?: string }).text ?? '';
}

/** An invalid message executed on chain B: an invalid_message alert on B. */
async function invalidMessage(): Promise<void> {
  const init = await emitInitiating(world.devnet.chain(A));
  await executeMessage(world.devnet.chain(B), init.identifier, keccak256(toHex(`forged ${init.msgHash}`)));
}

const alert = async (x: RunningXmsg, id: string) => waitFor(id, () => x.app.alerts.store.get(id));
const actions = async (x: RunningXmsg, id: string) => (await x.app.alerts.store.audit(id)).map((e) => e.action);

/** A replica, a silence S-1 of chain B's new alerts, and the alert XM-1 opened under it (muted by S-1). */
async function alertUnderChainSilence(): Promise<RunningXmsg> {
  const x = await start();
  expect(await say(x, `silence ${B} 1h maintenance`)).toContain('S-1: new alerts matching');
  await invalidMessage();
  expect(await alert(x, 'XM-1')).toMatchObject({ silenceId: 'S-1' });
  return x;
}

describe('silences that end', () => {
  it('posts an alert opened under a chain silence when the silence ends, and escalates it from then', async () => {
    const x = await start();
    expect(await say(x, `silence ${B} 4s batcher upgrade`)).toMatch(new RegExp(`^S-1: new alerts matching chain ${B} are muted until`));
    const silence = (await x.app.alerts.store.getSilence('S-1'))!;
    await waitFor('the silence announced', () =>
      announcements().some((t) => t.includes(`Silence S-1 by alice (slack:${ONCALL_USER})`) && t.includes('batcher upgrade')),
    );

    await invalidMessage();
    expect(await alert(x, 'XM-1')).toMatchObject({ silenceId: 'S-1', escalationLevel: 0 });
    // Muted: no root while the silence lasts.
    await new Promise((r) => setTimeout(r, Math.max(0, silence.until - Date.now() - 500)));
    expect(rootOf('XM-1')).toBeUndefined();

    const root = await waitFor('the root once the silence is over', () => rootOf('XM-1'), 15_000);
    const postedAt = Date.now();
    expect(postedAt).toBeGreaterThanOrEqual(silence.until);
    expect(root.text).not.toContain('<!subteam^');
    await waitFor('the end announced', () => announcements().some((t) => t.includes('Silence S-1 (chain 982) is over')));
    expect((await x.app.alerts.store.get('XM-1'))!.silenceId).toBe('');

    // Its escalation starts from the end of the silence: on-call is paged XMSG_ESCALATE_AFTER_S later.
    await waitFor('the page after the silence', () => pages(root.ts).length === 1, 15_000);
    expect(Date.now() - postedAt).toBeGreaterThanOrEqual(ESCALATE_AFTER_S * 1000 - 500);
    expect((await x.app.alerts.store.get('XM-1'))!.escalationLevel).toBe(1);
    expect(await actions(x, 'XM-1')).toEqual(['opened', 'unmute', 'timer']);
    expect(roots()).toHaveLength(1);
    expect(await say(x, 'list silenced')).not.toContain('S-1');
  });

  it('lifts a silence at once with /xmsg unsilence: the muted alert is posted and escalates, once', async () => {
    const x = await alertUnderChainSilence();
    expect(await say(x, 'list silenced')).toContain(`S-1: chain ${B} muted until`);

    // The lift and its end job (run at once) race on purpose; a second lift finds nothing to end.
    expect(await say(x, 'unsilence S-1')).toBe('S-1 ended. Live again: XM-1.');
    expect(await say(x, 'unsilence S-1')).toContain('No active or scheduled silence S-1');
    const root = await waitFor('the root', () => rootOf('XM-1'), 10_000);
    await waitFor('the lift announced', () =>
      announcements().some((t) => t.includes(`Silence S-1 (chain ${B}) is lifted by alice (slack:${ONCALL_USER})`)),
    );
    await waitFor('the page after the lift', () => pages(root.ts).length === 1, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await actions(x, 'XM-1')).toEqual(['opened', 'unmute', 'timer']);
    expect(roots()).toHaveLength(1);
    expect(announcements().filter((t) => t.includes('Silence S-1 (chain'))).toHaveLength(1);

    // The same for the silence of one alert: one reply in its thread.
    expect(await say(x, 'silence XM-1 1h')).toMatch(/^XM-1 silenced until \S+ \(S-2\)\.$/);
    expect(await say(x, 'unsilence S-2')).toBe('S-2 ended. Live again: XM-1.');
    await waitFor('the lift in the thread', () => thread(root.ts).some((t) => t.includes('Silence S-2 was lifted by alice')));
    await new Promise((r) => setTimeout(r, 1000));
    expect(thread(root.ts).filter((t) => t.includes('Silence S-2 was lifted'))).toHaveLength(1);
    expect((await actions(x, 'XM-1')).filter((a) => a === 'unmute')).toHaveLength(2);
  });

  it('mutes with a scheduled window only inside its interval', async () => {
    const x = await start();
    const answer = await say(x, `silence ${B} 8s at +4s planned upgrade`);
    expect(answer).toMatch(new RegExp(`^S-1: new alerts matching chain ${B} will be muted from \\S+ until \\S+\\.$`));
    const window = (await x.app.alerts.store.getSilence('S-1'))!;
    expect(await say(x, 'list silenced')).toContain(`S-1: chain ${B} to be muted from`);

    // Before the window: posted.
    await invalidMessage();
    const before = await alert(x, 'XM-1');
    expect(before.createdAt).toBeLessThan(window.from);
    expect(before.silenceId).toBe('');
    await waitFor('XM-1 posted', () => rootOf('XM-1'));
    await x.app.alerts.resolve('XM-1', alice);

    // Inside it: muted, and posted when it ends.
    await waitFor(
      'the window in effect',
      () => Date.now() >= window.from && announcements().some((t) => t.includes('S-1 is now in effect')),
      10_000,
    );
    expect(await say(x, 'list silenced')).toContain(`S-1: chain ${B} muted until`);
    await invalidMessage();
    const inside = await alert(x, 'XM-2');
    expect(inside.createdAt).toBeGreaterThanOrEqual(window.from);
    expect(inside.createdAt).toBeLessThan(window.until);
    expect(inside.silenceId).toBe('S-1');
    expect(rootOf('XM-2')).toBeUndefined();
    await waitFor('XM-2 posted after the window', () => rootOf('XM-2'), 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(window.until);
    await x.app.alerts.resolve('XM-2', alice);

    // After it: posted at once.
    await invalidMessage();
    expect(await alert(x, 'XM-3')).toMatchObject({ silenceId: '' });
    await waitFor('XM-3 posted', () => rootOf('XM-3'));
  });

  it("ends the alert button's silence by itself, and the alert pages again", async () => {
    // Paged every 2 s while open and unmuted: whether or not its first page came before the button was pressed.
    const x = await start({ XMSG_ESCALATION_REPEAT_S: String(ESCALATE_AFTER_S) });
    await invalidMessage();
    const root = await waitFor('the root', () => rootOf('XM-1'));
    const res = await sendBlockAction(`${x.baseUrl}/slack/events`, SECRET, {
      userId: ONCALL_USER,
      userName: 'alice',
      channelId: CHANNEL,
      messageTs: root.ts,
      actionId: 'xmsg_silence_1h',
      value: 'XM-1',
    });
    expect(res.status).toBe(200);
    await waitFor('the silence in the thread', () => thread(root.ts).some((t) => t.includes('Silenced until')));
    const silence = (await x.app.alerts.store.getSilence('S-1'))!;
    expect(silence).toMatchObject({ matcher: 'alert', value: 'XM-1' });
    expect(silence.until - silence.from).toBe(3_600_000);
    await waitFor('the silence announced', () =>
      announcements().some((t) => t.includes('Silence S-1 by alice') && t.includes('alert XM-1')),
    );

    // Its end is a delayed job due in an hour, whatever replica runs then.
    const queue = new Queue('silences', { connection: { url: world.redisUrl }, prefix: world.prefix });
    const endJob = (await queue.getJob('silence-end-S-1'))!;
    expect(await endJob.isDelayed()).toBe(true);
    expect(endJob.timestamp + endJob.delay).toBeGreaterThanOrEqual(silence.until);
    expect(await x.app.alerts.store.get('XM-1')).toMatchObject({ silenceId: 'S-1' });
    // No page while it is silenced.
    const paged = pages(root.ts).length;
    await new Promise((r) => setTimeout(r, ESCALATE_AFTER_S * 1000 + 1000));
    expect(pages(root.ts)).toHaveLength(paged);

    // An hour passes: the silence and its end job are moved to a few seconds from now.
    const soon = Date.now() + 2000;
    const { keys } = x.app.alerts.store;
    await x.app.redis.multi().hset(keys.silence('S-1'), 'until', String(soon)).zadd(keys.silences, soon, 'S-1').exec();
    await endJob.changeDelay(2000);
    await queue.close();

    await waitFor(
      'the end in the thread',
      () => thread(root.ts).some((t) => t.includes('Silence S-1 is over: this alert is live again')),
      15_000,
    );
    await waitFor('the page after the silence', () => pages(root.ts).length > paged, 15_000);
    const audit = await actions(x, 'XM-1');
    expect(audit.slice(audit.indexOf('silence'), audit.indexOf('silence') + 3)).toEqual(['silence', 'unmute', 'timer']);
    expect(thread(root.ts).filter((t) => t.includes('live again'))).toHaveLength(1);
    expect(roots()).toHaveLength(1);
  });
});

// An alert covered by two silences at once stays muted until the last of them ends, whichever ends first and
// whichever began first. A chain silence mutes new alerts only (README, "Silences"): it covers an alert opened while it
// was in effect, not one opened before it.
describe('overlapping silences', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const liveAgain = (ts: string) => thread(ts).filter((t) => t.includes('live again'));
  const unmutes = async (x: RunningXmsg, id: string) => (await actions(x, id)).filter((a) => a === 'unmute').length;

  /** The alert is still muted, unposted and unpaged, past the wait of the page an unmute would have set up. */
  async function staysMuted(x: RunningXmsg, id: string, silenceId: string): Promise<void> {
    await sleep(ESCALATE_AFTER_S * 1000 + 1500);
    expect(await x.app.alerts.store.get(id)).toMatchObject({ silenceId, escalationLevel: 0 });
    expect(rootOf(id)).toBeUndefined();
    expect(await unmutes(x, id)).toBe(0);
  }

  /**
   * The alert, muted from its opening, is posted once and pages once. Its thread says it is live again once when the
   * last silence was its own; the end of a silence of new alerts posts the root instead.
   */
  async function liveOnce(x: RunningXmsg, id: string, lastSilence: 'own' | 'of new alerts'): Promise<string> {
    const root = await waitFor(`the root of ${id}`, () => rootOf(id), 15_000);
    await waitFor('the page after the last silence', () => pages(root.ts).length === 1, 15_000);
    await sleep(1000);
    expect(pages(root.ts)).toHaveLength(1);
    expect(liveAgain(root.ts)).toHaveLength(lastSilence === 'own' ? 1 : 0);
    expect(await unmutes(x, id)).toBe(1);
    expect(roots()).toHaveLength(1);
    return root.ts;
  }

  it("keeps an alert opened under a chain silence muted when its own, shorter silence ends, until the chain's ends", async () => {
    const x = await alertUnderChainSilence();
    expect(await say(x, 'silence XM-1 3s noisy')).toMatch(/^XM-1 silenced until \S+ \(S-2\)\.$/);

    // S-2 ends at its end time: the chain silence S-1 still covers XM-1.
    await waitFor('S-2 over', () => announcements().some((t) => t.includes('Silence S-2 (alert XM-1) is over')), 15_000);
    await staysMuted(x, 'XM-1', 'S-1');

    expect(await say(x, 'unsilence S-1')).toBe('S-1 ended. Live again: XM-1.');
    const ts = await liveOnce(x, 'XM-1', 'of new alerts');
    expect(thread(ts).filter((t) => t.includes(`Silence S-2 is over, but S-1 (chain ${B}) still mutes this alert until`))).toHaveLength(1);
  });

  it('keeps an alert muted by its own silence when the chain silence it opened under is lifted first', async () => {
    const x = await alertUnderChainSilence();
    expect(await say(x, 'silence XM-1 6s noisy')).toMatch(/^XM-1 silenced until \S+ \(S-2\)\.$/);

    // S-1 is lifted while XM-1's own silence S-2 lasts.
    expect(await say(x, 'unsilence S-1')).toBe('S-1 ended.');
    const s2 = (await x.app.alerts.store.getSilence('S-2'))!;
    await sleep(Math.max(0, s2.until - Date.now() - 1000));
    expect(await x.app.alerts.store.get('XM-1')).toMatchObject({ silenceId: 'S-2', escalationLevel: 0 });
    expect(rootOf('XM-1')).toBeUndefined();

    // S-2 ends at its end time: live then, once.
    await liveOnce(x, 'XM-1', 'own');
    expect(Date.now()).toBeGreaterThanOrEqual(s2.until);
  });

  it('keeps an alert muted by its own silence when a second, shorter silence of it ends', async () => {
    const x = await alertUnderChainSilence();
    expect(await say(x, 'silence XM-1 1h')).toMatch(/\(S-2\)\.$/);
    expect(await say(x, 'silence XM-1 1h')).toMatch(/\(S-3\)\.$/);

    // The chain silence and the latest silence of the alert are lifted: S-2 still covers it.
    expect(await say(x, 'unsilence S-1')).toBe('S-1 ended.');
    expect(await say(x, 'unsilence S-3')).toBe('S-3 ended.');
    await staysMuted(x, 'XM-1', 'S-2');

    expect(await say(x, 'unsilence S-2')).toBe('S-2 ended. Live again: XM-1.');
    await liveOnce(x, 'XM-1', 'own');
  });

  it('lets a chain silence started after an alert opened leave it alone: its own silence ends, and it pages', async () => {
    const x = await start({ XMSG_ESCALATION_REPEAT_S: String(ESCALATE_AFTER_S) });
    await invalidMessage();
    const root = await waitFor('the root', () => rootOf('XM-1'));
    expect(await say(x, 'silence XM-1 5s noisy')).toMatch(/\(S-1\)\.$/);
    expect(await say(x, `silence ${B} 1h maintenance`)).toContain('S-2: new alerts matching');
    expect(await x.app.alerts.store.get('XM-1')).toMatchObject({ silenceId: 'S-1' });
    const paged = pages(root.ts).length;

    // XM-1 opened before S-2: S-2 does not cover it, so it is live again at the end of its own silence, once.
    await waitFor('the end in the thread', () => liveAgain(root.ts).length === 1, 15_000);
    expect(await x.app.alerts.store.get('XM-1')).toMatchObject({ silenceId: '' });
    const pagedAfterUnmute = (a: string[]) => a.includes('unmute') && a.lastIndexOf('timer') > a.indexOf('unmute');
    await waitFor('a page after its silence', async () => pagedAfterUnmute(await actions(x, 'XM-1')), 15_000);
    await waitFor('the page in the thread', () => pages(root.ts).length > paged, 15_000);
    await sleep(1000);
    expect(liveAgain(root.ts)).toHaveLength(1);
    expect(await unmutes(x, 'XM-1')).toBe(1);

    // S-2 mutes what opens under it.
    await x.app.alerts.resolve('XM-1', alice);
    await invalidMessage();
    expect(await alert(x, 'XM-2')).toMatchObject({ silenceId: 'S-2' });
    await sleep(1000);
    expect(rootOf('XM-2')).toBeUndefined();
  });
});
