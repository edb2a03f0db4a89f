import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Hex } from 'viem';
import type { ChainRpc } from '../chain/rpc.js';
import { awaitsPromotion, isInvalid } from '../chain/validity.js';
import type { MessageEvent } from '../events/types.js';
import type { CheckQueueData } from '../jobs/checker.js';
import type { EventOutbox } from '../jobs/events-outbox.js';
import type { Metrics } from '../metrics.js';
import { readHeads } from '../store/heads.js';
import type { MessageRecord, MessageStore } from '../store/messages.js';

export interface SafetyTrackerDeps {
  store: MessageStore;
  rpcs: ReadonlyMap<number, ChainRpc>;
  outbox: EventOutbox;
  /** Where re-checks go when a source chain reorgs. */
  checkQueue: Queue<CheckQueueData>;
  /** For the other chains' heads, as their followers recorded them. */
  redis: Redis;
  metrics: Metrics;
  log: Logger;
}

/**
 * The follower's bulk safety step: follows tracked messages' executing blocks through the safety levels, per chain,
 * when the chain's heads move or its follower walks back a reorg; never per message on a timer. Not a job: it runs
 * in the follower's step, on the replica that follows the chain.
 */
export class SafetyTracker {
  constructor(private readonly deps: SafetyTrackerDeps) {}

  /**
   * Settles everything the chain's safe and finalized heads have passed, reports overdue promotions, and deletes
   * dropped messages whose retention ended (a range read when none is due).
   */
  async onHeads(chainId: number, safe: bigint, finalized: bigint): Promise<void> {
    await this.promoteUpTo(chainId, safe);
    await this.finalizeUpTo(chainId, finalized);
    await this.reportOverdue(chainId);
    await this.deps.store.collectGarbage();
  }

  /** The chain walked back to `ancestor`: its own blocks above it may be gone, and messages pointing into them need a re-check. */
  async onReorg(chainId: number, ancestor: bigint, newTip: Hex): Promise<void> {
    for (const index of ['pending', 'safe'] as const) {
      const records = await this.deps.store.getMany(await this.deps.store.indexAbove(index, chainId, ancestor));
      await this.settleOrphans(chainId, [...records.values()], undefined);
    }
    const pointing = await this.deps.store.getMany(await this.deps.store.indexAbove('bySource', chainId, ancestor));
    if (pointing.size) {
      // op-interop-mon's initiating_reorgs_total: each message whose initiating block may now have another hash.
      for (const r of pointing.values())
        this.deps.metrics.initiatingReorgs.inc({ executing_chain_id: String(r.data.chainId), initiating_chain_id: String(chainId) });
      this.deps.log.warn(
        { chainId, ancestor: String(ancestor), messages: pointing.size },
        'source chain reorg: re-checking messages that point past the ancestor',
      );
      await this.deps.checkQueue.addBulk(
        [...pointing.values()].map((r) => ({
          name: 'recheck',
          data: { ...r.data, recheck: true },
          opts: { jobId: `recheck-${r.data.id}-${newTip.toLowerCase()}` },
        })),
      );
    }
  }

  private async promoteUpTo(chainId: number, safe: bigint): Promise<void> {
    const records = [...(await this.deps.store.getMany(await this.deps.store.indexUpTo('pending', chainId, safe))).values()];
    if (!records.length) return;
    const canonical = await this.settleOrphans(chainId, records, safe);
    await inSlices(canonical, async (record) => {
      const data = record.data;
      if (isInvalid(record.status)) {
        await this.publish('cross_safety_violation', record, { safeHead: String(safe) }, 'cross-safe');
        this.deps.log.error(
          { messageId: data.id, safeHead: String(safe) },
          'cross-safety violation: invalid message in a cross-safe block',
        );
      } else if (record.marks.includes('unpromoted')) {
        await this.publish('promoted', record, { safeHead: String(safe) }, 'cross-safe');
      }
      await this.deps.store.promote(data, safe);
    });
  }

  /**
   * Drops the records whose executing block is no longer canonical (reporting the replacement of invalid ones, and
   * the reorg of valid ones reported unpromoted) and returns the rest. `upTo` set: the caller knows these heights exist, so a missing block is an RPC fault.
   */
  private async settleOrphans(chainId: number, records: MessageRecord[], upTo: bigint | undefined): Promise<MessageRecord[]> {
    const rpc = this.deps.rpcs.get(chainId)!;
    const heights = [...new Set(records.map((r) => r.data.blockNumber))];
    const headers = await Promise.all(heights.map((n) => rpc.header(BigInt(n))));
    const canonicalAt = new Map(heights.map((n, i) => [n, headers[i]?.hash.toLowerCase()]));
    const kept: MessageRecord[] = [];
    for (const record of records) {
      const data = record.data;
      const now = canonicalAt.get(data.blockNumber);
      if (now === undefined && upTo !== undefined)
        throw new Error(`chain ${chainId} has no block ${data.blockNumber} below its safe head ${upTo}`);
      if (now === data.blockHash.toLowerCase()) {
        kept.push(record);
        continue;
      }
      const note = now ? `block ${data.blockNumber} is now ${now}` : `block ${data.blockNumber} no longer exists`;
      if (isInvalid(record.status)) {
        await this.publish('replaced', record, now ? { replacementBlockHash: now } : {}, 'replaced');
        await this.deps.store.drop(record, 'replaced', note);
        this.deps.log.info({ messageId: data.id, replacement: now }, "invalid message's block was replaced");
      } else {
        // One reported unpromoted has an alert that waits for it: told first, so that a crash before the drop publishes
        // again (collapsed by id) instead of leaving that alert waiting for a message that is gone.
        if (record.safety === 'unsafe' && record.marks.includes('unpromoted'))
          await this.publish('reorged', record, now ? { replacementBlockHash: now } : {}, 'reorged');
        await this.deps.store.drop(record, 'reorged', note);
        this.deps.log.info({ messageId: data.id }, 'executing block reorged out; message dropped');
      }
    }
    return kept;
  }

  private async finalizeUpTo(chainId: number, finalized: bigint): Promise<void> {
    const records = [...(await this.deps.store.getMany(await this.deps.store.indexUpTo('safe', chainId, finalized))).values()];
    const sources = [...new Set(records.map((r) => Number(r.data.identifier.chainId)))];
    const sourceFinalized = new Map(await Promise.all(sources.map(async (c) => [c, await this.finalizedOf(c)] as const)));
    const done = records.filter((record) => {
      const sourceHead = sourceFinalized.get(Number(record.data.identifier.chainId));
      // A source chain xmsg does not follow can never be checked further; the executing side decides alone.
      return sourceHead === undefined || sourceHead >= BigInt(record.data.identifier.blockNumber);
    });
    await inSlices(done, (record) => this.deps.store.drop(record, 'finalized', `executing block finalized (head ${finalized})`));
  }

  private async finalizedOf(chainId: number): Promise<bigint | undefined> {
    const { finalized } = await readHeads(this.deps.redis, this.deps.store.keys, chainId);
    return finalized === undefined ? undefined : BigInt(finalized);
  }

  private async reportOverdue(chainId: number): Promise<void> {
    const due = await this.deps.store.indexUpTo('deadlines', chainId, Date.now(), 1000);
    if (!due.length) return;
    const records = await this.deps.store.getMany(due);
    for (const short of due) {
      const record = records.get(short);
      if (record && record.safety === 'unsafe' && awaitsPromotion(record.status) && !record.marks.includes('unpromoted')) {
        await this.publish('unpromoted', record, {}, 'unsafe');
        await this.deps.store.mark(record.data.id, 'unpromoted', 'not cross-safe by the promotion deadline');
      }
      await this.deps.store.removeDeadline(chainId, short);
    }
  }

  private publish(
    type: MessageEvent['type'],
    record: MessageRecord,
    extra: Pick<MessageEvent, 'safeHead' | 'replacementBlockHash'>,
    safety: MessageRecord['safety'],
  ): Promise<void> {
    const { data, status, reason } = record;
    return this.deps.outbox.publish({
      id: `${type}-${data.id}`,
      type,
      at: Date.now(),
      message: { ...data, status, reason, safety },
      ...extra,
    });
  }
}

/**
 * Messages are settled independently of one another: a slice at a time runs at once, so that their Redis scripts
 * go out pipelined instead of one round trip after another when a dense block becomes safe or final.
 */
const SLICE = 500;
async function inSlices<T>(items: readonly T[], settle: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += SLICE) await Promise.all(items.slice(i, i + SLICE).map(settle));
}
