/**
 * A storm (issue 14): `perChain` valid executing messages in one block on each storm chain, the blocks mined at once
 * (one anvil_mine per chain, all sent together) while one replica watches every chain; right after the mining
 * starts, one invalid message on a quiet chain of its own. Timed: the storm's end-to-end rate (from the first
 * anvil_mine to the last valid status stored) and the invalid message's root latency at the loopback Slack, from
 * just before its transaction is sent to its root arriving, while the storm is processed.
 */
import type { FakeSlack } from '../test/fakes/slack.js';
import type { RunningXmsg } from '../test/helpers/xmsg.js';
import type { BenchContext } from './context.js';
import { LATENCY_ENV, oneAlert, RootWatch, SLACK } from './latency.js';
import { timeUntil } from './stats.js';
import { initiatingLogs, messageFor, packedBlock } from './traffic.js';

export interface StormOptions {
  /** Valid messages in the one block of each storm chain. */
  perChain: number;
  /** Messages per transaction (MessageBatcher): one block holds perChain / perTx of them. */
  perTx: number;
  timeoutMs: number;
}

export interface StormResult {
  stormChains: number;
  perChain: number;
  perTx: number;
  /** The declared gas of each storm block (the most of them). */
  blockGas: bigint;
  /** From the first anvil_mine sent to the last of them answered, ms. */
  miningMs: number;
  /** From the first anvil_mine sent to the last valid status stored, ms. */
  endToEndMs: number;
  /** The invalid message's transaction sent to its root at Slack, ms. */
  rootMs: number;
}

async function validCount(x: RunningXmsg): Promise<number> {
  const counts = await x.app.store.statusCounts();
  return counts.filter((c) => c.status === 'valid').reduce((n, c) => n + c.count, 0);
}

/** The context's last chain takes the invalid message; every other chain gets a storm block. */
export async function runStorm(ctx: BenchContext, slack: FakeSlack, o: StormOptions): Promise<StormResult> {
  const chains = ctx.devnet.chains;
  const storm = chains.slice(0, -1);
  const quiet = ctx.chain(chains.length - 1);
  await ctx.holdLabels();
  slack.reset();
  const x = await ctx.startXmsg(ctx.newPrefix('storm'), {
    ...LATENCY_ENV,
    SLACK_BOT_TOKEN: SLACK.token,
    SLACK_SIGNING_SECRET: SLACK.secret,
    SLACK_CHANNEL_ID: SLACK.channel,
    SLACK_API_URL: slack.apiUrl,
  });
  // Every storm chain executes the next one's logs; the invalid message forges a hash for a log of the first.
  const [pools, [forgedFrom]] = await Promise.all([
    Promise.all(storm.map((_, i) => initiatingLogs(storm[(i + 1) % storm.length]!, o.perChain))),
    initiatingLogs(storm[0]!, 1),
  ]);
  const packed = await Promise.all(
    storm.map((chain, i) =>
      packedBlock(
        chain,
        pools[i]!.map((l) => messageFor(l)),
        o.perTx,
      ),
    ),
  );
  const total = storm.length * o.perChain;

  const mining = Promise.all(packed.map((p) => p.mine()));
  const roots = new RootWatch(slack);
  const [mined, rootMs] = await Promise.all([mining, oneAlert(quiet, messageFor(forgedFrom!, false), roots, x, o.timeoutMs)]);
  const doneAt = await timeUntil(`${total} storm messages valid`, async () => (await validCount(x)) >= total, o.timeoutMs).catch(
    async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await x.app.store.statusCounts())}`);
    },
  );
  await ctx.stopXmsg(x);
  const startedAt = Math.min(...mined.map((m) => m.startedAt));
  return {
    stormChains: storm.length,
    perChain: o.perChain,
    perTx: o.perTx,
    blockGas: packed.reduce((max, p) => (p.gas > max ? p.gas : max), 0n),
    miningMs: Math.max(...mined.map((m) => m.minedAt)) - startedAt,
    endToEndMs: doneAt - startedAt,
    rootMs,
  };
}
