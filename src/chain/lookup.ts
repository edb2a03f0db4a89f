import type { Address, Hex } from 'viem';
import { identifierOf, type MessageData, type MessageRecord, type MessageStore, messageDataOf } from '../store/messages.js';
import { decodeExecutingLog, EXECUTING_MESSAGE_TOPIC } from './inbox.js';
import type { ChainLog, ChainRpc } from './rpc.js';
import type { SourceBlocks } from './source-blocks.js';
import { validateExecuting } from './validate.js';
import type { ValidityRules, Verdict } from './validity.js';

export type Found = { tracked: MessageRecord } | { untracked: MessageData; verdict: Verdict };

/**
 * Answers "what about this message?" for `/xmsg status`: from Redis when xmsg tracks it, otherwise from the
 * chains on demand (the transaction's receipt, or the inbox logs of the recent blocks), validated on the spot.
 */
export class MessageLookup {
  constructor(
    private readonly rpcs: ReadonlyMap<number, ChainRpc>,
    private readonly inbox: Address,
    private readonly sources: SourceBlocks,
    private readonly rules: ValidityRules,
    private readonly store: MessageStore,
    private readonly lookbackBlocks: number,
  ) {}

  async byMsgHash(msgHash: Hex): Promise<Found[]> {
    const tracked = await this.store.byMsgHash(msgHash);
    if (tracked.length) return tracked.map((t) => ({ tracked: t }));
    const perChain = await Promise.all(
      [...this.rpcs.values()].map(async (rpc) => {
        const head = await rpc.blockNumber();
        const from = head > BigInt(this.lookbackBlocks) ? head - BigInt(this.lookbackBlocks) : 0n;
        return this.resolve(rpc, await rpc.logsInRange(this.inbox, [EXECUTING_MESSAGE_TOPIC, msgHash], from, head));
      }),
    );
    return perChain.flat();
  }

  async byTxHash(txHash: Hex): Promise<Found[]> {
    const perChain = await Promise.all(
      [...this.rpcs.values()].map(async (rpc) => {
        const logs = (await rpc.transactionLogs(txHash)) ?? [];
        return this.resolve(
          rpc,
          logs.filter((l) => l.address.toLowerCase() === this.inbox.toLowerCase() && l.topics[0] === EXECUTING_MESSAGE_TOPIC),
        );
      }),
    );
    return perChain.flat();
  }

  private async resolve(rpc: ChainRpc, logs: ChainLog[]): Promise<Found[]> {
    const found: Found[] = [];
    for (const log of logs) {
      const decoded = decodeExecutingLog(log);
      if (!decoded.ok) continue;
      const header = await rpc.header(log.blockNumber);
      if (!header) continue;
      const data = messageDataOf(rpc.chainId, log, decoded, header.timestamp, Date.now());
      const tracked = await this.store.get(data.id);
      if (tracked) {
        found.push({ tracked });
        continue;
      }
      const verdict = await validateExecuting(data.msgHash, identifierOf(data), header.timestamp, this.sources, this.rules);
      found.push({ untracked: data, verdict });
    }
    return found;
  }
}
