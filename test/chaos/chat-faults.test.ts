/**
 * Chat faults: Slack and Discord answer 429 (with Retry-After / retry_after) and 5xx, and are down outright at
 * times, for a while, during which alerts are opened, acknowledged and resolved. Afterwards, on both platforms,
 * every alert's root is there once, the roots are in the order the alerts were opened, and each thread holds its
 * replies once, in order.
 */
import { keccak256, toHex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage } from '../../src/devnet/devnet.js';
import { Rng } from '../../src/devnet/random.js';
import type { FakeMessage as DiscordMessage } from '../fakes/discord/index.js';
import { type FakeSlack, sendSlashCommand } from '../fakes/slack.js';
import { type RunningXmsg, waitFor } from '../helpers/xmsg.js';
import { alertIdOfRoot, apiAlerts, FULL, SLACK, scale, seedFor, slackEnv, sleep, useChaosWorld } from './lib.js';

const A = 979;
const B = 980;
const FAULT_MS = scale(10_000, 60_000);
const ALERTS = scale(6, 20);

const world = useChaosWorld('chaos-chat', [A, B], { discord: { heartbeatIntervalMs: 1000 } });
let x: RunningXmsg | undefined;

afterAll(() => {
  world.slack.setDown(false);
  world.discord.setDown(false);
});

async function say(text: string): Promise<string> {
  const res = await sendSlashCommand(`${x!.baseUrl}/slack/events`, SLACK.secret, {
    text,
    userId: SLACK.admin,
    userName: 'admin',
    channelId: SLACK.channel,
    slack: world.slack,
  });
  expect(res.status).toBe(200);
  return (res.body as { text?: string }).text ?? '';
}

describe('chaos: chat faults', () => {
  it(
    `delivers every alert once and in order after ${FAULT_MS / 1000} s of Slack and Discord 429s, 5xx and downtime`,
    async () => {
      x = await world.startXmsg({
        ...slackEnv(world.slack),
        DISCORD_BOT_TOKEN: world.discord.token,
        DISCORD_APPLICATION_ID: world.discord.applicationId,
        DISCORD_CHANNEL_ID: world.discord.channelId,
        DISCORD_API_URL: world.discord.apiUrl,
      });
      await waitFor('the discord client to be ready', () => x!.app.discordClient?.isReady(), 10_000);
      const rng = new Rng(seedFor(0x429));
      const started = Date.now();
      let faulting = true;

      // Slack's trouble: each second one of: down (503 to everything), 429s, 500s. Queued faults wait for calls, so
      // a new one is queued only when the last was used, and the rest are used up when the trouble ends.
      const queued = new Map<string, number>();
      const used = (method: string) => world.slack.faultedCalls.filter((c) => c.method === method && c.fault !== 'down').length;
      const failNext = (method: string, fault: Parameters<FakeSlack['failNext']>[2]) => {
        if ((queued.get(method) ?? 0) > used(method)) return;
        world.slack.failNext(method, 1, fault);
        queued.set(method, (queued.get(method) ?? 0) + 1);
      };
      const trouble = (async () => {
        while (Date.now() - started < FAULT_MS) {
          const mode = rng.pick(['down', 'down', '429', '500'] as const);
          world.slack.setDown(mode === 'down');
          // Discord has its own trouble at the same moments; its REST client waits out 429s and retries 5xx itself.
          const discordMode = rng.pick(['down', '429', '500', 'ok'] as const);
          world.discord.setDown(discordMode === 'down');
          if (discordMode === '429') world.discord.failNext('createMessage', 1, { status: 429, retryAfter: 1 });
          if (discordMode === '500') world.discord.failNext('editMessage', 2, { status: 502 });
          if (mode === '429') {
            failNext('chat.postMessage', { status: 429, retryAfter: 1 });
            failNext('chat.update', { status: 429, retryAfter: 1 });
          }
          if (mode === '500') {
            failNext('chat.postMessage', { status: 500 });
            failNext('chat.update', { status: 503 });
          }
          await sleep(1000);
        }
        world.slack.setDown(false);
        world.discord.setDown(false);
        // Used up here, on a channel and message of no alert, so the trouble ends now.
        for (const [method, n] of queued) {
          for (let i = used(method); i < n; i++) {
            await fetch(`${world.slack.apiUrl}${method}`, {
              method: 'POST',
              headers: { authorization: `Bearer ${SLACK.token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ channel: 'C0DRAIN', ts: '1.000000', text: 'drain' }),
            });
          }
        }
        faulting = false;
      })();

      // Meanwhile: alerts opened, acknowledged and resolved (a resolved alert makes the next message a new alert).
      const opened: string[] = [];
      for (let i = 0; i < ALERTS; i++) {
        const init = await emitInitiating(world.devnet.chain(A));
        await executeMessage(world.devnet.chain(B), init.identifier, keccak256(toHex(`forged ${init.msgHash}`)));
        const alert = await waitFor(`alert ${i + 1}`, async () =>
          (await apiAlerts(x!.baseUrl)).find((a) => a.state === 'open' && !opened.includes(a.id)),
        );
        opened.push(alert.id);
        expect(await say(`ack ${alert.id}`)).toContain('Acknowledged by admin');
        expect(await say(`resolve ${alert.id}`)).toContain('Resolved by admin');
        await sleep(Math.max(0, started + ((i + 1) * FAULT_MS) / ALERTS - Date.now()));
      }
      await trouble;
      expect(faulting).toBe(false);
      const faulted = world.slack.faultedCalls;
      expect(faulted.some((c) => c.fault !== 'down' && 'status' in c.fault && c.fault.status === 429)).toBe(true);
      expect(faulted.some((c) => c.fault === 'down' || ('status' in c.fault && c.fault.status >= 500))).toBe(true);
      expect(opened).toEqual(Array.from({ length: ALERTS }, (_, i) => `XM-${i + 1}`));

      // Afterwards: everything, once, in order.
      const expectedThread = ['Acknowledged by admin.', 'Resolved by admin.'];
      // The lines of the thread: follow-ups still pending when the outbox gets to them go out merged into one reply.
      const lines = (replies: string[]) => replies.flatMap((r) => r.split('\n'));
      const threadOf = (ts: string) => lines(world.slack.threadReplies(SLACK.channel, ts).map((m) => m.text));
      await waitFor(
        'every root and thread delivered',
        () => {
          const roots = world.slack.channelMessages(SLACK.channel);
          return (
            roots.length >= ALERTS && roots.every((r) => threadOf(r.ts).length >= expectedThread.length && r.text.includes('resolved by'))
          );
        },
        scale(60_000, 120_000),
      ).catch(() => undefined); // the assertions below say what is missing
      const roots = world.slack.channelMessages(SLACK.channel);
      expect(roots.map(alertIdOfRoot)).toEqual(opened);
      for (const root of roots) {
        expect(threadOf(root.ts), alertIdOfRoot(root)).toEqual(expectedThread);
        expect(root.text, alertIdOfRoot(root)).toContain('resolved by admin');
      }

      // Discord: the same alerts, once each and in order, each thread with the same replies.
      const discordRoots = () => world.discord.channelMessages();
      const discordThread = (root: DiscordMessage) => lines(world.discord.threadMessages(root.id).map((m) => m.content));
      const stateOf = (root: DiscordMessage) =>
        (root.embeds[0]?.fields as Array<{ name: string; value: string }> | undefined)?.find((f) => f.name === 'State')?.value ?? '';
      await waitFor(
        'every Discord root and thread delivered',
        () =>
          discordRoots().length >= ALERTS &&
          discordRoots().every((r) => discordThread(r).length >= expectedThread.length && stateOf(r).includes('resolved by')),
        scale(60_000, 120_000),
      ).catch(() => undefined);
      expect(world.discord.faultedCalls.length).toBeGreaterThan(0);
      expect(discordRoots().map((r) => /^(XM-\d+) /.exec(String(r.embeds[0]?.title ?? ''))?.[1])).toEqual(opened);
      for (const root of discordRoots()) {
        expect(discordThread(root), String(root.embeds[0]?.title)).toEqual(expectedThread);
        expect(stateOf(root), String(root.embeds[0]?.title)).toContain('resolved by admin');
      }
      console.info(
        `chat faults: ${faulted.length} faulted Slack calls, ${world.discord.faultedCalls.length} Discord; delivered ${Date.now() - started - FAULT_MS} ms after the faults ended`,
      );
    },
    (FULL ? 300 : 120) * 1000,
  );
});
