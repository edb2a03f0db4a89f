/**
 * Throughput, end to end: blocks packed with hundreds of valid executing messages are mined while one replica
 * watches (one check job per block slice); the clock runs from the anvil_mine that produces them to the moment every
 * message has its terminal validity status stored in Redis. Then the limit (the same validation without the queue),
 * the RPC requests xmsg made per message, Redis CPU per message, and the Redis memory the tracked messages take
 * (used_memory's growth over the run, queues included, and MEMORY USAGE of the prefix's keys by kind).
 */

import { metricValue, type RunningXmsg, scrape } from '../test/helpers/xmsg.js';
import type { BenchContext } from './context.js';
import { type CpuSpent, cpuSpent } from './cpu.js';
import { type LimitRun, validateWithoutQueue } from './limit.js';
import { type PrefixMemory, prefixMemory, usedMemory } from './memory.js';
import { profiled } from './profile.js';
import { type QueueFloorRun, queueFloor } from './queue-floor.js';
import { chunk, timeUntil } from './stats.js';
import { initiatingLogs, messageFor, packedBlocks } from './traffic.js';

export interface ThroughputOptions {
  blocks: number;
  perBlock: number;
  timeoutMs: number;
}

export interface ThroughputResult {
  messages: number;
  blocks: number;
  perBlock: number;
  /** anvil_mine of all the blocks, ms. */
  miningMs: number;
  /** From anvil_mine sent to the last status stored, ms. */
  endToEndMs: number;
  /** CPU of this process and of Redis from anvil_mine to the last status (and the one check after it). */
  cpu: CpuSpent;
  rpcRequests: number;
  limit: LimitRun;
  queueFloor: QueueFloorRun;
  memory: PrefixMemory;
  /** Redis used_memory after the last status stored minus before the mining, bytes. */
  usedMemoryDelta: number;
  tracked: number;
}

async function settledCount(x: RunningXmsg): Promise<number> {
  const counts = await x.app.store.statusCounts();
  return counts.filter((c) => c.status !== 'future' && c.status !== 'unknown').reduce((n, c) => n + c.count, 0);
}

export async function runThroughput(ctx: BenchContext, o: ThroughputOptions): Promise<ThroughputResult> {
  const source = ctx.chain(0);
  const exec = ctx.chain(1);
  const total = o.blocks * o.perBlock;
  await ctx.holdLabels();
  const prefix = ctx.newPrefix('throughput');
  const x = await ctx.startXmsg(prefix);

  const logs = await initiatingLogs(source, total);
  const packed = await packedBlocks(
    exec,
    chunk(
      logs.map((l) => messageFor(l)),
      o.perBlock,
    ),
  );
  const rpcBefore = metricValue(await scrape(x.baseUrl), 'xmsg_rpc_requests_total');
  const memoryBefore = await usedMemory();
  const {
    result: { mined, doneAt },
    cpu,
  } = await cpuSpent(() =>
    profiled('throughput', async () => {
      const mined = await packed.mine();
      return { mined, doneAt: await timeUntil(`${total} messages settled`, async () => (await settledCount(x)) >= total, o.timeoutMs) };
    }),
  );
  const usedMemoryDelta = (await usedMemory()) - memoryBefore;
  const rpcRequests = metricValue(await scrape(x.baseUrl), 'xmsg_rpc_requests_total') - rpcBefore;

  const counts = await x.app.store.statusCounts();
  const tracked = counts.reduce((n, c) => n + c.count, 0);
  const valid = counts.filter((c) => c.status === 'valid').reduce((n, c) => n + c.count, 0);
  if (valid !== total) throw new Error(`bench: xmsg stored ${JSON.stringify(counts)}; expected ${total} valid`);
  const memory = await prefixMemory(prefix);
  const concurrency = x.app.config.checkerConcurrency;
  await ctx.stopXmsg(x);

  const limit = await profiled('limit', () => validateWithoutQueue(ctx.devnet, exec, mined.from, mined.to));
  if (limit.messages !== total || limit.statuses.valid !== total) {
    throw new Error(`bench: the limit run saw ${limit.messages} messages, ${JSON.stringify(limit.statuses)}; expected ${total} valid`);
  }
  const floor = await profiled('queue-floor', () => queueFloor(ctx.newPrefix('queue-floor'), total, concurrency));
  return {
    messages: total,
    blocks: o.blocks,
    perBlock: o.perBlock,
    miningMs: mined.minedAt - mined.startedAt,
    endToEndMs: doneAt - mined.startedAt,
    cpu,
    rpcRequests,
    limit,
    queueFloor: floor,
    memory,
    usedMemoryDelta,
    tracked,
  };
}
