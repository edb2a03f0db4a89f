/**
 * Scaling (issue 14): the throughput section's workload (blocks packed with valid executing messages, mined by one
 * anvil_mine, timed to the last valid status stored) with `replicas` xmsg replicas, each in a process of its own as
 * in production, on one Redis prefix. One replica holds each chain's lease; every replica's checker takes check jobs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { keys } from '../src/store/keys.js';
import { Replica } from '../test/helpers/replica.js';
import { REDIS_URL, testEnv } from '../test/helpers/xmsg.js';
import { type BenchContext, POLL_INTERVAL_MS } from './context.js';
import { chunk, timeUntil } from './stats.js';
import { initiatingLogs, messageFor, mineEmpty, packedBlocks } from './traffic.js';

export interface ScalingOptions {
  replicas: number;
  blocks: number;
  perBlock: number;
  timeoutMs: number;
}

export interface ScalingResult {
  replicas: number;
  messages: number;
  /** From anvil_mine sent to the last valid status stored, ms. */
  endToEndMs: number;
}

/** Valid messages in the status counts hash, whose fields are `executingChain|initiatingChain|status`. */
function validCount(counts: Record<string, string>): number {
  return Object.entries(counts).reduce((n, [field, count]) => (field.endsWith('|valid') ? n + Number(count) : n), 0);
}

export async function runScaling(ctx: BenchContext, o: ScalingOptions): Promise<ScalingResult> {
  const [source, exec] = [ctx.chain(0), ctx.chain(1)];
  const total = o.blocks * o.perBlock;
  await ctx.holdLabels();
  const prefix = ctx.newPrefix(`scaling-${o.replicas}`);
  // The prefix's first start begins at the head: mine an empty block first, as startXmsg does.
  for (const c of ctx.devnet.chains) await mineEmpty(c, 1);
  const env = testEnv(ctx.devnet, prefix, {
    XMSG_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    // The replica helper learns the HTTP port from the "xmsg started" line (to a file, off the console).
    XMSG_LOG_LEVEL: 'info',
  });
  const logDir = mkdtempSync(join(tmpdir(), 'xmsg-bench-scaling-'));
  const replicas = Array.from({ length: o.replicas }, (_, i) => new Replica({ name: `scaling-${i + 1}`, env, logDir }));
  const redis = new Redis(REDIS_URL);
  const k = keys(prefix);
  try {
    await Promise.all(replicas.map((r) => r.start()));
    await timeUntil(
      'every chain followed',
      async () => (await Promise.all(ctx.devnet.chains.map((c) => redis.hexists(k.cursor(c.chainId), 'number')))).every(Boolean),
      o.timeoutMs,
    );
    const logs = await initiatingLogs(source, total);
    const packed = await packedBlocks(
      exec,
      chunk(
        logs.map((l) => messageFor(l)),
        o.perBlock,
      ),
    );
    const mined = await packed.mine();
    const doneAt = await timeUntil(
      `${total} messages valid`,
      async () => validCount(await redis.hgetall(k.statusCounts)) >= total,
      o.timeoutMs,
    );
    return { replicas: o.replicas, messages: total, endToEndMs: doneAt - mined.startedAt };
  } finally {
    await Promise.all(replicas.map((r) => r.stop().catch(() => r.kill())));
    redis.disconnect();
    rmSync(logDir, { recursive: true, force: true });
  }
}
