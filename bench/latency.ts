/**
 * Alert latency: one invalid executing message at a time on each chain (both chains at once), each its own alert,
 * timed from just before its transaction is sent (anvil mines it on arrival) to the root message arriving at the
 * loopback Slack. After its root arrives the alert is resolved through the command model, so the next invalid
 * message on that chain opens a new alert instead of folding into this one.
 */

import { type DevChain, executeMessage } from '../src/devnet/devnet.js';
import { messageId } from '../src/store/keys.js';
import type { FakeSlack } from '../test/fakes/slack.js';
import type { RunningXmsg } from '../test/helpers/xmsg.js';
import type { BenchContext } from './context.js';
import { percentile, timeUntil } from './stats.js';
import { initiatingLogs, messageFor } from './traffic.js';

export const SLACK = { token: 'xoxb-bench-token', secret: 'bench-signing-secret', channel: 'C0BENCH' } as const;

export interface LatencyOptions {
  replicas: number;
  /** Measured alerts, split over the chains; each chain first raises `warmup` alerts that are not counted. */
  alerts: number;
  warmup: number;
  timeoutMs: number;
}

export interface LatencyResult {
  replicas: number;
  samples: number[];
  p50: number;
  p99: number;
  max: number;
}

/** The replica settings of this section: no grouping across alerts that matter here, chat as fast as it goes. */
export const LATENCY_ENV = {
  // The smallest window the configuration accepts; alerts here are never closer than this on one chain, because
  // each one is resolved before the next is raised (a resolved alert never folds a new occurrence).
  XMSG_ALERT_GROUP_WINDOW_S: '1',
  XMSG_CHAT_MAX_PER_S: '1000',
  // No escalation mention during the run.
  XMSG_ESCALATE_AFTER_S: '3600',
};

const ACTOR = { platform: 'bench', userId: 'U0BENCH', name: 'bench', canAct: true };

export async function runLatency(ctx: BenchContext, slack: FakeSlack, o: LatencyOptions): Promise<LatencyResult> {
  await ctx.holdLabels();
  slack.reset();
  const prefix = ctx.newPrefix(`latency-${o.replicas}`);
  const replicas: RunningXmsg[] = [];
  for (let i = 0; i < o.replicas; i++) {
    replicas.push(
      await ctx.startXmsg(prefix, {
        ...LATENCY_ENV,
        SLACK_BOT_TOKEN: SLACK.token,
        SLACK_SIGNING_SECRET: SLACK.secret,
        SLACK_CHANNEL_ID: SLACK.channel,
        SLACK_API_URL: slack.apiUrl,
      }),
    );
  }
  const chains = ctx.devnet.chains;
  const perChain = Math.ceil(o.alerts / chains.length) + o.warmup;
  // Every chain executes messages from the next one's logs.
  const pools = await Promise.all(chains.map((_, i) => initiatingLogs(chains[(i + 1) % chains.length]!, perChain)));
  const roots = new RootWatch(slack);
  try {
    const perChainSamples = await Promise.all(
      chains.map(async (chain, i) => {
        const samples: number[] = [];
        for (const [n, log] of pools[i]!.entries()) {
          const ms = await oneAlert(chain, messageFor(log, false), roots, replicas[n % replicas.length]!, o.timeoutMs);
          if (n >= o.warmup) samples.push(ms);
        }
        return samples;
      }),
    );
    const samples = perChainSamples.flat().slice(0, o.alerts);
    return { replicas: o.replicas, samples, p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples) };
  } finally {
    for (const x of replicas) await ctx.stopXmsg(x);
  }
}

/** Raises one invalid message on `chain`; returns ms from its send to its root at Slack, then resolves its alert. */
export async function oneAlert(
  chain: DevChain,
  item: ReturnType<typeof messageFor>,
  roots: RootWatch,
  via: RunningXmsg,
  timeoutMs: number,
): Promise<number> {
  const sentAt = Date.now();
  const exec = await executeMessage(chain, item.identifier, item.msgHash);
  let arrivedAt: number | undefined;
  const id = messageId(chain.chainId, exec.blockHash, Number(exec.logIndex));
  await timeUntil(`the root for ${item.msgHash}`, async () => (arrivedAt = roots.arrival(item.msgHash)) !== undefined, timeoutMs, 5).catch(
    async (err: Error) => {
      throw new Error(`${err.message} (${await diagnose(via, id)})`);
    },
  );
  const alertId = await via.app.alerts.store.alertForMessage(id);
  if (!alertId) throw new Error(`bench: no alert for message ${id}`);
  const resolved = await via.app.alerts.resolve(alertId, ACTOR);
  if (!resolved.ok) throw new Error(`bench: could not resolve ${alertId}: ${resolved.text}`);
  return arrivedAt! - sentAt;
}

/** Root messages (chat.postMessage without thread_ts) as the fake Slack received them, by the msgHash they show. */
export class RootWatch {
  private seen = 0;
  private readonly arrivals = new Map<string, number>();

  constructor(private readonly slack: FakeSlack) {}

  arrival(msgHash: string): number | undefined {
    const calls = this.slack.calls;
    for (; this.seen < calls.length; this.seen++) {
      const call = calls[this.seen]!;
      if (call.method !== 'chat.postMessage' || call.args.thread_ts !== undefined || !call.response.ok) continue;
      for (const hash of JSON.stringify(call.args).match(/0x[0-9a-f]{64}/gi) ?? []) {
        if (!this.arrivals.has(hash.toLowerCase())) this.arrivals.set(hash.toLowerCase(), call.at);
      }
    }
    return this.arrivals.get(msgHash.toLowerCase());
  }
}

/** Where an alert that did not reach Slack got stuck: its message, its alert and the queues on the way. */
async function diagnose(x: RunningXmsg, id: string): Promise<string> {
  const record = await x.app.store.get(id);
  const alertId = await x.app.alerts.store.alertForMessage(id);
  const alert = alertId ? await x.app.alerts.store.get(alertId) : undefined;
  const queues = { check: x.app.checkQueue, events: x.app.outbox.queue, ...x.app.notifier.queuesByName() };
  const counts = await Promise.all(
    Object.entries(queues).map(
      async ([name, q]) => `${name} ${JSON.stringify(await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'))}`,
    ),
  );
  return `message ${record ? `${record.status}/${record.safety}` : 'not stored'}; alert ${alert ? `${alert.id} ${alert.state} count ${alert.count}` : 'none'}; ${counts.join('; ')}`;
}
