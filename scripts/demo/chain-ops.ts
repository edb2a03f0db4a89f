/**
 * The devnet helpers assume automine; the demo mines a block every second instead, so the steps that must not
 * race with the miner (taking a snapshot, replacing a block) pause interval mining around themselves.
 */
import type { Hash, Hex } from 'viem';
import { type DevChain, headNumber, replaceBlocksFrom, snapshot } from '../../src/devnet/devnet.js';

export const BLOCK_TIME_S = 1;

async function withMiningPaused<T>(chain: DevChain, step: () => Promise<T>): Promise<T> {
  await chain.client.setIntervalMining({ interval: 0 });
  try {
    return await step();
  } finally {
    await chain.client.setIntervalMining({ interval: BLOCK_TIME_S });
  }
}

/**
 * A snapshot whose recorded head is exact: with the miner running, a block can land between evm_snapshot and
 * the head read that snapshot() keeps for replaceBlocksFrom, and the wrong block would be replaced.
 */
export async function exactSnapshot(chain: DevChain): Promise<{ id: Hex; head: bigint }> {
  return withMiningPaused(chain, async () => ({ id: await snapshot(chain), head: await headNumber(chain) }));
}

/** Replaces the block after the snapshot with an empty one (the miner paused meanwhile, so it cannot race). */
export async function replaceAfterSnapshot(chain: DevChain, snapshotId: Hex): Promise<{ number: bigint; hash: Hash }> {
  return withMiningPaused(chain, () => replaceBlocksFrom(chain, snapshotId));
}

/**
 * Waits until the chain's head is at least as recent as `timestamp`, so that a message initiated on another
 * chain is not executed in a block that looks older than it (anvil's interval miners drift apart by a second or
 * so). A relayer would wait the same way.
 */
export async function untilClockReaches(chain: DevChain, timestamp: bigint): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const head = await chain.client.getBlock({ blockTag: 'latest' });
    if (head.timestamp >= timestamp) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
