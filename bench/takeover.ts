/**
 * Takeover after a crash: a replica with a stable id (XMSG_REPLICA_ID), in a process of its own, follows the chains,
 * is killed -9, the chains move on by `blocks` blocks (the executing chain's last one carrying `messages` messages),
 * and the same replica is started again. The clock runs from its start (the process spawned) until every chain's
 * cursor is at its head and every message of the last block has its status stored. Its earlier run's leases, still
 * alive in Redis for up to 15 s, are taken over at once (src/watcher/lease.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { executeMessages } from '../src/devnet/devnet.js';
import { Replica } from '../test/helpers/replica.js';
import { REDIS_URL, testEnv } from '../test/helpers/xmsg.js';
import { type BenchContext, POLL_INTERVAL_MS } from './context.js';
import { timeUntil } from './stats.js';
import { initiatingLogs, messageFor, mineEmpty } from './traffic.js';

export interface TakeoverOptions {
  blocks: number;
  messages: number;
  timeoutMs: number;
}

export interface TakeoverResult {
  blocksPerChain: number;
  chains: number;
  messages: number;
  /** The earlier run's lease life left when the replica was started again, ms. */
  leaseLeftMs: number;
  /** From the process spawned to every cursor at its head and every message stored, ms. */
  caughtUpMs: number;
}

export async function runTakeover(ctx: BenchContext, o: TakeoverOptions): Promise<TakeoverResult> {
  await ctx.releaseLabels();
  const prefix = ctx.newPrefix('takeover');
  // The prefix's first start begins at the head: mine an empty block first, as startXmsg does.
  for (const c of ctx.devnet.chains) await mineEmpty(c, 1);
  const env = testEnv(ctx.devnet, prefix, {
    XMSG_REPLICA_ID: 'bench-1',
    XMSG_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    // The replica helper learns the HTTP port from the "xmsg started" line (to a file, off the console).
    XMSG_LOG_LEVEL: 'info',
  });
  const logDir = mkdtempSync(join(tmpdir(), 'xmsg-bench-takeover-'));
  const replica = new Replica({ name: 'takeover', env, logDir });
  const redis = new Redis(REDIS_URL);
  const chains = ctx.devnet.chains;
  const cursor = async (chainId: number) => BigInt((await redis.hget(`${prefix}:cursor:${chainId}`, 'number')) ?? '-1');
  try {
    await replica.start();
    await timeUntil(
      'every chain followed',
      async () => (await Promise.all(chains.map((c) => cursor(c.chainId)))).every((n) => n >= 0n),
      o.timeoutMs,
    );
    await replica.kill();

    const [source, exec] = [ctx.chain(0), ctx.chain(1)];
    const logs = await initiatingLogs(source, o.messages);
    const heads = new Map<number, bigint>();
    for (const c of chains) if (c !== exec) heads.set(c.chainId, await mineEmpty(c, o.blocks));
    await mineEmpty(exec, o.blocks - 1);
    await executeMessages(
      exec,
      logs.map((l) => messageFor(l)),
    );
    heads.set(exec.chainId, await mineEmpty(exec, 0));

    const leaseLeftMs = await redis.pttl(`${prefix}:lease:${exec.chainId}`);
    const started = performance.now();
    await replica.start();
    const doneAt = await timeUntil(
      'every cursor at its head and every message stored',
      async () => {
        const at = await Promise.all([...heads.keys()].map(cursor));
        if (![...heads.values()].every((head, i) => at[i]! >= head)) return false;
        const counts = await redis.hvals(`${prefix}:stats:status`);
        return counts.reduce((n, c) => n + Number(c), 0) >= o.messages;
      },
      o.timeoutMs,
    );
    return { blocksPerChain: o.blocks, chains: chains.length, messages: o.messages, leaseLeftMs, caughtUpMs: doneAt - started };
  } finally {
    await replica.stop().catch(() => replica.kill());
    redis.disconnect();
    rmSync(logDir, { recursive: true, force: true });
  }
}
