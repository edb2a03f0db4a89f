/**
 * Backfill after a long stop: a replica starts, saves its cursors and stops; every chain then gets `blocks` new
 * blocks (mostly empty, a few carrying messages); a replica starts again on the same prefix and the clock runs
 * until every chain's cursor is at the head it had when the replica started.
 */
import { executeMessages } from '../src/devnet/devnet.js';
import { metricValue, scrape } from '../test/helpers/xmsg.js';
import type { BenchContext } from './context.js';
import { chunk, timeUntil } from './stats.js';
import { initiatingLogs, messageFor, mineEmpty } from './traffic.js';

export interface BackfillOptions {
  blocks: number;
  messageBlocks: number;
  perMessageBlock: number;
  /** 'trailing': anvil's own labels (finalized 64 blocks behind the head); 'none': nothing finalized, every header read. */
  finalized: 'trailing' | 'none';
  timeoutMs: number;
}

export interface BackfillResult {
  blocksPerChain: number;
  chains: number;
  messages: number;
  /** From startApp to every cursor at its head, ms. */
  cursorMs: number;
  /** From startApp to every message of the gap found and settled, ms. */
  settledMs: number;
  rpcRequests: number;
}

export async function runBackfill(ctx: BenchContext, o: BackfillOptions): Promise<BackfillResult> {
  if (o.finalized === 'trailing') await ctx.releaseLabels();
  else await ctx.holdLabels();
  const prefix = ctx.newPrefix(`backfill-${o.finalized}`);
  await ctx.stopXmsg(await ctx.startXmsg(prefix));

  // The gap: on the executing chain a message block every blocks/messageBlocks blocks, pointing at logs on the other.
  const [source, exec] = [ctx.chain(0), ctx.chain(1)];
  const logs = await initiatingLogs(source, o.messageBlocks * o.perMessageBlock);
  const heads = new Map<number, bigint>();
  const gap = Math.floor(o.blocks / o.messageBlocks);
  for (const items of chunk(
    logs.map((l) => messageFor(l)),
    o.perMessageBlock,
  )) {
    await executeMessages(exec, items);
    heads.set(exec.chainId, await mineEmpty(exec, gap - 1));
  }
  for (const c of ctx.devnet.chains) if (c !== exec) heads.set(c.chainId, await mineEmpty(c, o.blocks));

  const started = performance.now();
  const x = await ctx.startXmsg(prefix);
  const cursorAt = await timeUntil(
    'every cursor at its head',
    async () => {
      const cursors = await Promise.all([...heads.keys()].map((id) => x.app.redis.hget(x.app.store.keys.cursor(id), 'number')));
      return [...heads.values()].every((head, i) => cursors[i] != null && BigInt(cursors[i]!) >= head);
    },
    o.timeoutMs,
  );
  const messages = logs.length;
  const settledAt = await timeUntil(
    `${messages} backfilled messages settled`,
    async () => {
      const seen = metricValue(await scrape(x.baseUrl), 'xmsg_messages_seen_total');
      const jobs = await x.app.checkQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return seen >= messages && Object.values(jobs).every((n) => n === 0);
    },
    o.timeoutMs,
  );
  const rpcRequests = metricValue(await scrape(x.baseUrl), 'xmsg_rpc_requests_total');
  await ctx.stopXmsg(x);
  return {
    blocksPerChain: o.blocks,
    chains: heads.size,
    messages,
    cursorMs: cursorAt - started,
    settledMs: settledAt - started,
    rpcRequests,
  };
}
