/**
 * Traffic for the bench, on top of the devnet's helpers: pools of initiating logs, blocks packed with hundreds of
 * executing messages (mined together by one anvil_mine), and long runs of empty blocks.
 */
import { type Hash, keccak256, toHex } from 'viem';
import type { Identifier } from '../src/chain/inbox.js';
import {
  type DevChain,
  emitInitiatingMany,
  executingTransaction,
  headNumber,
  type InitiatingLog,
  mine,
  setAutomine,
} from '../src/devnet/devnet.js';
import { chunk } from './stats.js';

export interface MessageItem {
  identifier: Identifier;
  msgHash: Hash;
}

/** `count` initiating logs on `chain`, `perTx` per transaction (one block each), all mined when this returns. */
export async function initiatingLogs(chain: DevChain, count: number, perTx = 500): Promise<InitiatingLog[]> {
  const sizes = chunk(
    Array.from({ length: count }, (_, i) => i),
    perTx,
  ).map((c) => c.length);
  return (await Promise.all(sizes.map((n) => emitInitiatingMany(chain, n)))).flat();
}

/** An executing message for the log: valid, or with a msgHash that matches nothing (invalid). */
export function messageFor(log: InitiatingLog, valid = true): MessageItem {
  return { identifier: log.identifier, msgHash: valid ? log.msgHash : keccak256(toHex(`forged ${log.msgHash}`)) };
}

// anvil takes a transaction into a block while gas used so far + its declared gas fits the block's limit;
// packedBlocks sets that limit a little above one transaction's declared gas (the devnet's executing transaction:
// MessageBatcher through the real inbox, with the access list that declares the messages), so a second one never fits.
const NORMAL_BLOCK_GAS_LIMIT = 1_000_000_000n;

export interface MinedRange {
  from: bigint;
  to: bigint;
  /** performance.now() just before anvil_mine was sent, and when it answered (every block mined). */
  startedAt: number;
  minedAt: number;
}

/**
 * Puts one executing transaction per block in the pool (automine off), with a block gas limit that fits exactly one
 * of them, so a single anvil_mine later mines them as `blocks.length` consecutive blocks. Call the returned `mine` to
 * mine them; it restores automine and the gas limit and checks every transaction succeeded.
 */
export async function packedBlocks(chain: DevChain, blocks: MessageItem[][]): Promise<{ mine(): Promise<MinedRange> }> {
  const size = blocks[0]?.length ?? 0;
  if (!size || blocks.some((b) => b.length !== size)) throw new Error('bench: packed blocks must all carry the same number of messages');
  const requests = blocks.map((items) => executingTransaction(chain, items));
  const txGas = requests.reduce((max, r) => (r.gas > max ? r.gas : max), 0n);
  await setAutomine(chain, false);
  const hashes: Hash[] = [];
  try {
    await chain.client.setBlockGasLimit({ gasLimit: txGas + txGas / 10n });
    for (const request of requests) hashes.push(await chain.client.sendTransaction(request));
  } catch (err) {
    await restore(chain);
    throw err;
  }
  return {
    async mine() {
      const before = await headNumber(chain);
      const startedAt = performance.now();
      try {
        await mine(chain, blocks.length);
      } finally {
        await restore(chain);
      }
      const minedAt = performance.now();
      const receipts = await Promise.all(hashes.map((hash) => chain.client.getTransactionReceipt({ hash })));
      const numbers = new Set(receipts.map((r) => r.blockNumber));
      if (receipts.some((r) => r.status !== 'success') || numbers.size !== blocks.length) {
        throw new Error(`bench: packed transactions did not land one per block (${numbers.size} blocks for ${blocks.length} transactions)`);
      }
      return { from: before + 1n, to: before + BigInt(blocks.length), startedAt, minedAt };
    },
  };
}

/**
 * Puts `items` in the pool (automine off) as transactions of at most `perTx` messages each (anvil refuses an HTTP
 * request of a few MB: 5,000 messages with their access list in one transaction are over it), to be mined together as
 * one block by the returned `mine`, which checks they all landed in that block. The devnet's block gas limit
 * (1,000,000,000) holds thousands of messages; this checks they fit.
 */
export async function packedBlock(
  chain: DevChain,
  items: MessageItem[],
  perTx: number,
): Promise<{ gas: bigint; mine(): Promise<MinedRange> }> {
  const requests = chunk(items, perTx).map((part) => executingTransaction(chain, part));
  const gas = requests.reduce((sum, r) => sum + r.gas, 0n);
  if (gas > NORMAL_BLOCK_GAS_LIMIT) throw new Error(`bench: ${items.length} messages need ${gas} gas, over the block gas limit`);
  await setAutomine(chain, false);
  const hashes: Hash[] = [];
  try {
    for (const request of requests) hashes.push(await chain.client.sendTransaction(request));
  } catch (err) {
    await restore(chain);
    throw err;
  }
  return {
    gas,
    async mine() {
      const before = await headNumber(chain);
      const startedAt = performance.now();
      try {
        await mine(chain, 1);
      } finally {
        await restore(chain);
      }
      const minedAt = performance.now();
      const receipts = await Promise.all(hashes.map((hash) => chain.client.getTransactionReceipt({ hash })));
      if (receipts.some((r) => r.status !== 'success' || r.blockNumber !== before + 1n)) {
        throw new Error(`bench: the ${hashes.length} transactions of one block did not all land in block ${before + 1n}`);
      }
      return { from: before + 1n, to: before + 1n, startedAt, minedAt };
    },
  };
}

async function restore(chain: DevChain): Promise<void> {
  await chain.client.setBlockGasLimit({ gasLimit: NORMAL_BLOCK_GAS_LIMIT });
  await setAutomine(chain, true);
}

/** Mines `count` empty blocks in calls of at most 200 (anvil_mine slows down on longer runs), returning the new head. */
export async function mineEmpty(chain: DevChain, count: number): Promise<bigint> {
  for (let left = count; left > 0; left -= 200) await mine(chain, Math.min(200, left));
  return headNumber(chain);
}
