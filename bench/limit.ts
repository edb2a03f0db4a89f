/**
 * The throughput limit: the same reads and the same validation of the same logs, against the same RPC node, with
 * no queue and no Redis in between. What the watcher reads (headers of the range, its logs, the tip again, each block
 * with executing logs once more with its transactions), then every message through validateExecuting with a cold
 * source-block cache and the access-list check (both are xmsg's validation, issue 11), all at once.
 */

import type { Address } from 'viem';
import { checkDeclared, type InboxDeclarations, readInboxDeclarations, withAccessList } from '../src/chain/access-list.js';
import { ActivationBlocks } from '../src/chain/activation.js';
import { decodeExecutingLog, EXECUTING_MESSAGE_TOPIC } from '../src/chain/inbox.js';
import { type ChainLog, ChainRpc, LogRangeRefused } from '../src/chain/rpc.js';
import { SourceBlocks } from '../src/chain/source-blocks.js';
import { validateExecuting } from '../src/chain/validate.js';
import { ACTIVE_SINCE_GENESIS, type ValidityStatus } from '../src/chain/validity.js';
import { DEFAULT_EXPIRY_WINDOW_S } from '../src/config.js';
import type { DevChain, Devnet } from '../src/devnet/devnet.js';

export interface LimitRun {
  messages: number;
  ms: number;
  statuses: Partial<Record<ValidityStatus, number>>;
}

export async function validateWithoutQueue(devnet: Devnet, exec: DevChain, from: bigint, to: bigint): Promise<LimitRun> {
  const options = { retries: 2, retryDelayMs: 50, timeoutMs: 10_000 };
  const rpcs = new Map(devnet.chains.map((c) => [c.chainId, new ChainRpc(c.chainId, c.rpcUrl, options)]));
  const rpc = rpcs.get(exec.chainId)!;
  const lookups = { sources: new SourceBlocks(rpcs), activationBlocks: new ActivationBlocks(rpcs), watched: rpcs };
  const rules = {
    dependencySet: new Map(devnet.chains.map((c) => [c.chainId, ACTIVE_SINCE_GENESIS])),
    expiryWindowS: DEFAULT_EXPIRY_WINDOW_S,
  };

  const started = performance.now();
  const numbers = Array.from({ length: Number(to - from + 1n) }, (_, i) => from + BigInt(i));
  const headers = new Map((await Promise.all(numbers.map((n) => rpc.header(n)))).map((h) => [h!.number, h!]));
  const logs = await logsSplitting(rpc, exec.inbox, from, to);
  await rpc.header(to);
  const declarations = new Map<string, InboxDeclarations>();
  const blocks = await Promise.all([...new Set(logs.map((l) => l.blockHash))].map((hash) => rpc.blockTransactions(hash)));
  for (const tx of blocks.flatMap((b) => b ?? []))
    declarations.set(tx.hash.toLowerCase(), readInboxDeclarations(tx.accessList, exec.inbox));
  const verdicts = await Promise.all(
    logs.map(async (log) => {
      const decoded = decodeExecutingLog(log);
      if (!decoded.ok) throw new Error(`bench: malformed log in the limit run: ${decoded.reason}`);
      const executing = { chainId: exec.chainId, blockNumber: log.blockNumber, timestamp: headers.get(log.blockNumber)!.timestamp };
      const verdict = await validateExecuting(decoded.msgHash, decoded.identifier, executing, lookups, rules);
      const declared = declarations.get(log.transactionHash.toLowerCase()) ?? readInboxDeclarations(undefined, exec.inbox);
      return withAccessList(verdict, checkDeclared(declared, decoded.identifier, decoded.msgHash));
    }),
  );
  const ms = performance.now() - started;

  const statuses: Partial<Record<ValidityStatus, number>> = {};
  for (const v of verdicts) statuses[v.status] = (statuses[v.status] ?? 0) + 1;
  return { messages: logs.length, ms, statuses };
}

/** The range's logs; a range the node refuses is read as two halves (as the watcher splits it). */
async function logsSplitting(rpc: ChainRpc, inbox: Address, from: bigint, to: bigint): Promise<ChainLog[]> {
  try {
    return await rpc.logsInRange(inbox, [EXECUTING_MESSAGE_TOPIC], from, to);
  } catch (err) {
    if (!(err instanceof LogRangeRefused) || from === to) throw err;
    const mid = from + (to - from) / 2n;
    return [...(await logsSplitting(rpc, inbox, from, mid)), ...(await logsSplitting(rpc, inbox, mid + 1n, to))];
  }
}
