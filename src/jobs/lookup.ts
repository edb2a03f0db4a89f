import type { Address, Hex } from 'viem';
import { withAccessList } from '../chain/access-list.js';
import { lookUpAccessListCheck } from '../chain/access-list-lookup.js';
import { ActivationBlocks } from '../chain/activation.js';
import { decodeExecutingLog, EXECUTING_MESSAGE_TOPIC } from '../chain/inbox.js';
import type { ChainLog, ChainRpc } from '../chain/rpc.js';
import type { SourceBlocks } from '../chain/source-blocks.js';
import { type ChainLookups, validateExecuting } from '../chain/validate.js';
import { isInvalid, type ValidityRules, type Verdict } from '../chain/validity.js';
import { identifierOf, type MessageData, type MessageRecord, type MessageStore, messageDataOf } from '../store/messages.js';
import { executingBlockOf } from './checker.js';

export type Found = { tracked: MessageRecord } | { untracked: MessageData; verdict: Verdict };

export interface MessageLookupDeps {
  rpcs: ReadonlyMap<number, ChainRpc>;
  inbox: Address;
  sources: SourceBlocks;
  rules: ValidityRules;
  store: MessageStore;
  /** How many recent blocks of each chain a msgHash is looked for in (XMSG_STATUS_LOOKBACK_BLOCKS). */
  lookbackBlocks: number;
}

/**
 * Answers "what about this message?" for `/xmsg status`: from Redis when xmsg tracks it, otherwise from the
 * chains on demand (the transaction's receipt, or the inbox logs of the recent blocks), validated on the spot as
 * the checker would, without recording anything. Not a job: the command waits for it.
 */
export class MessageLookup {
  private readonly lookups: ChainLookups;

  constructor(private readonly deps: MessageLookupDeps) {
    this.lookups = { sources: deps.sources, activationBlocks: new ActivationBlocks(deps.rpcs), watched: deps.rpcs };
  }

  /** The tracked messages with this msgHash, from Redis alone (no chain is asked). */
  async tracked(msgHash: Hex): Promise<Found[]> {
    return (await this.deps.store.byMsgHash(msgHash)).map((t) => ({ tracked: t }));
  }

  async byMsgHash(msgHash: Hex): Promise<Found[]> {
    const tracked = await this.tracked(msgHash);
    if (tracked.length) return tracked;
    const perChain = await Promise.all(
      [...this.deps.rpcs.values()].map(async (rpc) => {
        const head = await rpc.blockNumber();
        const from = head > BigInt(this.deps.lookbackBlocks) ? head - BigInt(this.deps.lookbackBlocks) : 0n;
        return this.resolve(rpc, await rpc.logsInRange(this.deps.inbox, [EXECUTING_MESSAGE_TOPIC, msgHash], from, head));
      }),
    );
    return perChain.flat();
  }

  async byTxHash(txHash: Hex): Promise<Found[]> {
    const perChain = await Promise.all(
      [...this.deps.rpcs.values()].map(async (rpc) => {
        const logs = (await rpc.transactionLogs(txHash)) ?? [];
        return this.resolve(
          rpc,
          logs.filter((l) => l.address.toLowerCase() === this.deps.inbox.toLowerCase() && l.topics[0] === EXECUTING_MESSAGE_TOPIC),
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
      const tracked = await this.deps.store.get(data.id);
      if (tracked) {
        found.push({ tracked });
        continue;
      }
      found.push({ untracked: data, verdict: await this.check(rpc, data) });
    }
    return found;
  }

  /** As the checker decides: the validity rules, then the transaction's access list (a forged log is not `valid`). */
  private async check(rpc: ChainRpc, data: MessageData): Promise<Verdict> {
    const id = identifierOf(data);
    const verdict = await validateExecuting(data.msgHash, id, executingBlockOf(data), this.lookups, this.deps.rules);
    if (isInvalid(verdict.status)) return verdict;
    const check = await lookUpAccessListCheck(rpc, this.deps.inbox, data, id, data.msgHash);
    return 'unknown' in check ? { status: 'unknown', reason: check.unknown } : withAccessList(verdict, check);
  }
}
