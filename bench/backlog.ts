/**
 * Root latency behind a follow-up backlog: one alert grows by hundreds of occurrences at once, each a follow-up job
 * in the Slack outbox, and right then an invalid message on the other chain opens a new alert; timed from just
 * before its transaction is sent to its root arriving at the loopback Slack. Chat at Slack's pace (one post a
 * second): new roots must not wait for the follow-ups, and follow-ups that find nothing new must cost no post.
 */

import { dedupKey } from '../src/alerts/service.js';
import { executeMessages } from '../src/devnet/devnet.js';
import type { FakeSlack } from '../test/fakes/slack.js';
import type { BenchContext } from './context.js';
import { oneAlert, RootWatch, SLACK } from './latency.js';
import { percentile, timeUntil } from './stats.js';
import { initiatingLogs, messageFor } from './traffic.js';

export interface BacklogOptions {
  /** Measured new alerts, one per round. */
  rounds: number;
  /** Occurrences added to the growing alert in each round, each a follow-up job. */
  followUps: number;
  timeoutMs: number;
}

export interface BacklogResult {
  samples: number[];
  p50: number;
  p99: number;
  max: number;
  /** Chat jobs queued (median over the rounds) when each new alert's message was sent. */
  queuedJobs: number;
  /** Posts to Slack (roots and replies) during the run, and the run's length. */
  posts: number;
  runMs: number;
}

/** The replica's settings: Slack's own pace, no escalation mention during the run. */
export const BACKLOG_ENV = { XMSG_CHAT_MAX_PER_S: '1', XMSG_ESCALATE_AFTER_S: '3600' };

export async function runBacklog(ctx: BenchContext, slack: FakeSlack, o: BacklogOptions): Promise<BacklogResult> {
  await ctx.holdLabels();
  slack.reset();
  const prefix = ctx.newPrefix('backlog');
  const x = await ctx.startXmsg(prefix, {
    ...BACKLOG_ENV,
    SLACK_BOT_TOKEN: SLACK.token,
    SLACK_SIGNING_SECRET: SLACK.secret,
    SLACK_CHANNEL_ID: SLACK.channel,
    SLACK_API_URL: slack.apiUrl,
  });
  const [first, second] = ctx.devnet.chains;
  if (!first || !second) throw new Error('bench: the backlog section needs two chains');
  // The growing alert's messages execute on `second` (from `first`'s logs); each new alert's on `first`.
  const [growing, fresh] = await Promise.all([initiatingLogs(first, o.rounds * o.followUps), initiatingLogs(second, o.rounds)]);
  const chat = x.app.notifier.queuesByName()['chat-slack'];
  if (!chat) throw new Error('bench: no Slack outbox');
  const roots = new RootWatch(slack);
  const samples: number[] = [];
  const queued: number[] = [];
  const started = performance.now();
  try {
    for (let round = 0; round < o.rounds; round++) {
      const batch = growing.slice(round * o.followUps, (round + 1) * o.followUps).map((log) => messageFor(log, false));
      await executeMessages(second, batch);
      // Every occurrence folded in: its follow-up job is queued.
      const total = (round + 1) * o.followUps;
      await timeUntil(
        `the growing alert to count ${total}`,
        async () => {
          const id = await x.app.alerts.store.alertForDedupKey(dedupKey('invalid_message', second.chainId));
          return id !== undefined && (await x.app.alerts.store.get(id))?.count === total;
        },
        o.timeoutMs,
      );
      const counts = await chat.getJobCounts('prioritized', 'waiting', 'delayed');
      queued.push(Object.values(counts).reduce((a, b) => a + b, 0));
      samples.push(await oneAlert(first, messageFor(fresh[round]!, false), roots, x, o.timeoutMs));
    }
  } finally {
    await ctx.stopXmsg(x);
  }
  const posts = slack.callsOf('chat.postMessage').length;
  return {
    samples,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    queuedJobs: percentile(queued, 50),
    posts,
    runMs: performance.now() - started,
  };
}
