import { type ConnectionOptions, DelayedError, type Job, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Address } from 'viem';
import { type AccessListCheck, withAccessList } from '../chain/access-list.js';
import { lookUpAccessListCheck } from '../chain/access-list-lookup.js';
import { ActivationBlocks } from '../chain/activation.js';
import type { BlockHeader, ChainRpc } from '../chain/rpc.js';
import type { SourceBlocks } from '../chain/source-blocks.js';
import { type ChainLookups, validateExecuting } from '../chain/validate.js';
import { type ExecutingBlock, isInvalid, isSettled, type ValidityRules, type ValidityStatus, type Verdict } from '../chain/validity.js';
import type { MessageEvent } from '../events/types.js';
import { CHECK_JOBS, MAX_STALLED_COUNT } from '../queues/defaults.js';
import { identifierOf, type MessageData, type MessageRecord, type MessageStore } from '../store/messages.js';
import type { EventOutbox } from './events-outbox.js';
import type { FilterCrossCheck } from './filter-cross-check.js';
import { type LegacySlice, type PackedSlice, unpackSlice } from './slice.js';

export const CHECK_QUEUE = 'check';

export interface CheckJobData extends MessageData {
  /** Set on re-checks after a source-chain reorg: ignore cached source blocks. */
  recheck?: boolean;
  /**
   * What the executing transaction's access list says of this log, as the follower read it with the block; without it
   * (re-checks are made from the stored record) the transaction is read again.
   */
  accessList?: AccessListCheck;
}

/**
 * One executing block's messages, or a slice of them (at most CHECK_SLICE_MESSAGES), checked by one job: the unit of
 * queued work (docs/ARCHITECTURE.md §1). Each message keeps its own record, history, idempotency and retries. Packed
 * (src/jobs/slice.ts); a slice queued before packing is still read.
 */
export type CheckSliceData = PackedSlice | LegacySlice;

/** Messages per slice job: one Redis round trip of record writes, and a bounded job payload (~110 KB packed). */
export const CHECK_SLICE_MESSAGES = 500;

/**
 * A slice's BullMQ job id, from its chain, executing block and place in the block (deterministic: the same block's
 * logs always split alike). Never a plain integer, no ':' (docs/ARCHITECTURE.md §3).
 */
export function sliceJobId(chainId: number, blockHash: string, sliceIndex: number): string {
  return `slice-${chainId}-${blockHash.toLowerCase()}-${sliceIndex}`;
}

/** What the check queue carries: a slice of a block's messages, or one message (its retries, re-checks). */
export type CheckQueueData = CheckJobData | CheckSliceData;

const isSlice = (data: CheckQueueData): data is CheckSliceData => 'messages' in data;

export interface CheckerOptions {
  rules: ValidityRules;
  promotionDeadlineS: number;
  pendingDeadlineS: number;
  /** First retry delay for `future`/`unknown`; doubles up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface CheckerDeps {
  store: MessageStore;
  sources: SourceBlocks;
  rpcs: ReadonlyMap<number, ChainRpc>;
  /** The CrossL2Inbox address, whose access-list entries declare messages. */
  inbox: Address;
  outbox: EventOutbox;
  log: Logger;
  /**
   * Given each settled status (XMSG_INTEROP_FILTER_RPC): queues op-interop-filter's second opinion, never waits for it
   * (src/jobs/filter-cross-check.ts).
   */
  crossCheck?: Pick<FilterCrossCheck, 'afterCheck' | 'afterSlice'>;
}

export function createCheckQueue(connection: ConnectionOptions, prefix: string): Queue<CheckQueueData> {
  return new Queue<CheckQueueData>(CHECK_QUEUE, { connection, prefix, defaultJobOptions: CHECK_JOBS });
}

/** Retry a message whose status is not settled yet; BullMQ's backoff decides when. */
class NotSettledYet extends Error {}

/**
 * Validates one executing message against its initiating log and records the verdict. Events are published
 * before the state change that makes them visible, so a crash in between re-publishes (collapsed by event id)
 * rather than losing the event.
 */
export class Checker {
  private readonly lookups: ChainLookups;

  constructor(
    private readonly deps: CheckerDeps,
    private readonly options: CheckerOptions,
  ) {
    this.lookups = { sources: deps.sources, activationBlocks: new ActivationBlocks(deps.rpcs), watched: deps.rpcs };
  }

  /**
   * Says, once per chain, which dependency-set chains have no RPC: their messages can only be `unverified` (a warning
   * at start, and one `chain_unwatched` event per chain, collapsed by its id across replicas and restarts).
   */
  async announceUnwatchedChains(): Promise<void> {
    for (const chainId of unwatchedChains(this.options.rules, this.deps.rpcs)) {
      const reason = `chain ${chainId} is in the dependency set but has no RPC in XMSG_L2_RPCS: its messages are unverified`;
      this.deps.log.warn({ chainId }, reason);
      await this.deps.outbox.publish({ id: `chain_unwatched-${chainId}`, type: 'chain_unwatched', at: Date.now(), chainId, reason });
    }
  }

  startWorker(connection: ConnectionOptions, prefix: string, concurrency: number): Worker<CheckQueueData> {
    const { retryBaseMs, retryMaxMs } = this.options;
    const queue = createCheckQueue(connection, prefix);
    const run = (job: Job<CheckQueueData>) =>
      isSlice(job.data) ? this.processSlice(job as Job<CheckSliceData>, queue) : this.checkAndTell(job as Job<CheckJobData>);
    const worker = new Worker<CheckQueueData>(CHECK_QUEUE, run, {
      connection,
      prefix,
      concurrency,
      maxStalledCount: MAX_STALLED_COUNT,
      settings: {
        backoffStrategy: (attemptsMade: number) => Math.min(retryBaseMs * 2 ** Math.max(0, attemptsMade - 1), retryMaxMs),
      },
    });
    worker.on('failed', (job, err) => {
      if (!(err instanceof NotSettledYet) && !(err instanceof DelayedError)) {
        this.deps.log.error({ err, jobId: job?.id }, 'message check failed; will retry');
      }
    });
    worker.on('closed', () => void queue.close().catch(() => undefined));
    return worker;
  }

  /** A job's check, then its settled status given to `crossCheck` (a status not settled yet throws before). */
  private async checkAndTell(job: Job<CheckJobData>): Promise<ValidityStatus> {
    const status = await this.process(job);
    await this.deps.crossCheck?.afterCheck(job.data, status);
    return status;
  }

  /** One message's job: a retry of a message not settled yet, a re-check, or a message queued on its own. */
  async process(job: Pick<Job<CheckJobData>, 'data' | 'id' | 'attemptsMade'>): Promise<ValidityStatus> {
    const data = job.data;
    const verdict = await this.checkOne(job);
    if (!isSettled(verdict.status) && (await this.whileNotSettled(data, verdict)) === 'retry') {
      throw new NotSettledYet(`${verdict.status}: ${verdict.reason}`);
    }
    return verdict.status;
  }

  /**
   * A slice of one executing block's messages: validated together (their source blocks read once, through the
   * cache), the new records written in one round trip, each message's events published as a single check would.
   * Run twice (a replica killed mid-slice, a slice queued again), it finds the records and changes nothing. A
   * message not settled yet (`future`, `unknown`) gets a delayed job of its own, id the message's, which retries
   * it with the usual backoff. The settled ones' second opinion is queued, not awaited. Returns each message's status,
   * in order.
   */
  async processSlice(job: Pick<Job<CheckSliceData>, 'data' | 'id'>, queue: Pick<Queue<CheckQueueData>, 'addBulk'>) {
    const messages: CheckJobData[] = unpackSlice(job.data);
    const verdicts = await Promise.all(messages.map((data) => this.validate(data, false)));
    // Invalid verdicts go the careful way (their event is published before the record that would hide it).
    const fresh = verdicts.flatMap((verdict, i) => (isInvalid(verdict.status) ? [] : [i]));
    const created = await this.deps.store.createMany(
      fresh.map((i) => ({ ...verdicts[i]!, data: messages[i]!, deadlineAt: this.deadlineOf(messages[i]!) })),
    );
    const done = new Set(fresh.filter((_, j) => created[j]));
    const settled = await Promise.all(
      messages.map((data, i) => (done.has(i) ? verdicts[i]! : this.checkOne({ data, id: data.id, attemptsMade: 0 }, verdicts[i]))),
    );

    // Every message of a slice is in the same executing block: its header is read once for all that wait.
    let header: Promise<BlockHeader | undefined> | undefined;
    const headerOnce = () => (header ??= this.executingHeader(messages[0]!));
    const retries: CheckJobData[] = [];
    await Promise.all(
      messages.map(async (data, i) => {
        const verdict = settled[i]!;
        if (isSettled(verdict.status)) return;
        if ((await this.whileNotSettled(data, verdict, headerOnce)) === 'retry') retries.push(data);
      }),
    );
    if (retries.length) {
      await queue.addBulk(retries.map((data) => ({ name: 'check', data, opts: { jobId: data.id, delay: this.options.retryBaseMs } })));
    }
    const statuses = settled.map((v) => (isSettled(v.status) ? v.status : null));
    await this.deps.crossCheck?.afterSlice(job.id!, job.data, statuses);
    return settled.map((v) => v.status);
  }

  /**
   * A message checked and recorded: on its first check (nearly always its first sight) validated, then its record
   * created in one step, which refuses a record that exists (a job run twice); that one, an invalid verdict, a
   * retry and a re-check go the careful way. `verdictSoFar`: the message's verdict, already made (a slice's).
   */
  private async checkOne(job: Pick<Job<CheckJobData>, 'data' | 'id' | 'attemptsMade'>, verdictSoFar?: Verdict): Promise<Verdict> {
    const data = job.data;
    if (verdictSoFar === undefined && (data.recheck || job.attemptsMade > 0)) return this.checkAgainstRecord(job);
    const verdict = verdictSoFar ?? (await this.validate(data, false));
    if (
      verdictSoFar ||
      isInvalid(verdict.status) ||
      !(await this.deps.store.create(data, verdict.status, verdict.reason, this.deadlineOf(data)))
    ) {
      return this.checkAgainstRecord(job, verdict);
    }
    return verdict;
  }

  /** Checks a message against its record (if any): retries, re-checks, duplicates and invalid verdicts. */
  private async checkAgainstRecord(job: Pick<Job<CheckJobData>, 'data' | 'id'>, verdictSoFar?: Verdict): Promise<Verdict> {
    const data = job.data;
    const existing = await this.deps.store.get(data.id);
    const recorded = existing && { status: existing.status, reason: existing.reason };
    if (recorded && existing.safety !== 'unsafe' && existing.safety !== 'cross-safe') return recorded;
    if (recorded && isSettled(existing.status) && !data.recheck) return recorded;

    const verdict = verdictSoFar ?? (await this.validate(data, data.recheck === true));
    const deadlineAt = this.deadlineOf(data);

    if (!existing) {
      if (isInvalid(verdict.status)) await this.publish(invalidEventOf(verdict.status), data, verdict, 'unsafe');
      await this.deps.store.create(data, verdict.status, verdict.reason, deadlineAt);
    } else if (existing.status !== verdict.status) {
      await this.publishChange(existing, verdict, job);
      await this.deps.store.setStatus(data, existing.status, verdict.status, verdict.reason, deadlineAt);
    }
    return verdict;
  }

  /** Promotion deadline: from the block's time, or from first sight if the block claims a later time. */
  private deadlineOf(data: MessageData): number {
    return Math.min(Number(data.blockTimestamp) * 1000, data.seenAt) + this.options.promotionDeadlineS * 1000;
  }

  /** The validity rules, then the access list (src/chain/access-list.ts `withAccessList`). */
  private async validate(data: CheckJobData, fresh: boolean): Promise<Verdict> {
    const id = identifierOf(data);
    const verdict = await validateExecuting(data.msgHash, id, executingBlockOf(data), this.lookups, this.options.rules, fresh);
    if (isInvalid(verdict.status)) return verdict;
    const check =
      data.accessList ?? (await lookUpAccessListCheck(this.deps.rpcs.get(data.chainId), this.deps.inbox, data, id, data.msgHash));
    return 'unknown' in check ? { status: 'unknown', reason: check.unknown } : withAccessList(verdict, check);
  }

  private async publishChange(existing: MessageRecord, verdict: Verdict, job: Pick<Job<CheckJobData>, 'id'>) {
    const data = existing.data;
    const was = existing.status;
    const now = verdict.status;
    if (isSettled(was) && isSettled(now) && isInvalid(was) !== isInvalid(now)) {
      await this.publish('status_flip', data, verdict, existing.safety, {
        previousStatus: was,
        idSuffix: `${was}-${now}-${job.id ?? Date.now()}`,
      });
      if (isInvalid(now) && existing.safety === 'cross-safe') {
        await this.publish('cross_safety_violation', data, verdict, existing.safety);
      }
    } else if (!isSettled(was) && isInvalid(now)) {
      await this.publish(invalidEventOf(verdict.status), data, verdict, existing.safety);
    }
  }

  /**
   * A message stuck in `future`/`unknown`: reported once overdue, dropped if its block is gone, else to be retried
   * later ('retry'). `executingHeader`: the executing block's header as the chain has it now (read once per slice).
   */
  private async whileNotSettled(
    data: MessageData,
    verdict: Verdict,
    executingHeader = () => this.executingHeader(data),
  ): Promise<'retry' | 'dropped'> {
    if (Date.now() > data.seenAt + this.options.pendingDeadlineS * 1000) {
      await this.publish('pending_timeout', data, verdict, 'unsafe');
      await this.deps.store.mark(data.id, 'pending_timeout', verdict.reason);
    }
    const header = await executingHeader();
    if (header && header.hash.toLowerCase() !== data.blockHash.toLowerCase()) {
      const record = await this.deps.store.get(data.id);
      if (record) await this.deps.store.drop(record, 'reorged', `block ${data.blockNumber} is now ${header.hash}`);
      this.deps.log.info({ messageId: data.id }, 'executing block reorged out before the message settled; dropped');
      return 'dropped';
    }
    return 'retry';
  }

  private executingHeader(data: MessageData): Promise<BlockHeader | undefined> {
    const rpc = this.deps.rpcs.get(data.chainId);
    return rpc ? rpc.header(BigInt(data.blockNumber)).catch(() => undefined) : Promise.resolve(undefined);
  }

  private async publish(
    type: MessageEvent['type'],
    data: MessageData,
    verdict: Verdict,
    safety: MessageRecord['safety'],
    extra: { previousStatus?: ValidityStatus; idSuffix?: string } = {},
  ): Promise<void> {
    const event: MessageEvent = {
      id: extra.idSuffix ? `${type}-${data.id}-${extra.idSuffix}` : `${type}-${data.id}`,
      type,
      at: Date.now(),
      message: { ...data, status: verdict.status, reason: verdict.reason, safety },
      ...(extra.previousStatus ? { previousStatus: extra.previousStatus } : {}),
    };
    await this.deps.outbox.publish(event);
  }
}

/** Where a message was executed, as the validity rules take it. */
export function executingBlockOf(data: MessageData): ExecutingBlock {
  return { chainId: data.chainId, blockNumber: BigInt(data.blockNumber), timestamp: BigInt(data.blockTimestamp) };
}

/** Dependency-set chains xmsg has no RPC for, in the order of the set. */
export function unwatchedChains(rules: ValidityRules, rpcs: { has(chainId: number): boolean }): number[] {
  return [...rules.dependencySet.keys()].filter((chainId) => !rpcs.has(chainId));
}

/** The event of a message found invalid: an undeclared (forged) log has its own alert kind. */
const invalidEventOf = (status: ValidityStatus) => (status === 'access_list_mismatch' ? 'access_list_mismatch' : 'invalid_message');
