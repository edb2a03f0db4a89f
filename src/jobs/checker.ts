import { type ConnectionOptions, DelayedError, type Job, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Address } from 'viem';
import { type AccessListCheck, withAccessList } from '../chain/access-list.js';
import { lookUpAccessListCheck } from '../chain/access-list-lookup.js';
import { ActivationBlocks } from '../chain/activation.js';
import type { ChainRpc } from '../chain/rpc.js';
import type { SourceBlocks } from '../chain/source-blocks.js';
import { type ChainLookups, validateExecuting } from '../chain/validate.js';
import { type ExecutingBlock, isInvalid, isSettled, type ValidityRules, type ValidityStatus, type Verdict } from '../chain/validity.js';
import type { MessageEvent } from '../events/types.js';
import { CHECK_JOBS, MAX_STALLED_COUNT } from '../queues/defaults.js';
import { identifierOf, type MessageData, type MessageRecord, type MessageStore } from '../store/messages.js';
import type { EventOutbox } from './events-outbox.js';

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
  /** Told each settled status (XMSG_INTEROP_FILTER_RPC: op-interop-filter's second opinion, src/jobs/filter-cross-check.ts). */
  afterCheck?: (data: MessageData, status: ValidityStatus) => Promise<void>;
}

export function createCheckQueue(connection: ConnectionOptions, prefix: string): Queue<CheckJobData> {
  return new Queue<CheckJobData>(CHECK_QUEUE, { connection, prefix, defaultJobOptions: CHECK_JOBS });
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

  startWorker(connection: ConnectionOptions, prefix: string, concurrency: number): Worker<CheckJobData> {
    const { retryBaseMs, retryMaxMs } = this.options;
    const worker = new Worker<CheckJobData>(CHECK_QUEUE, (job) => this.checkAndTell(job), {
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
    return worker;
  }

  /** A job's check, then its settled status told to `afterCheck` (a status not settled yet throws before). */
  private async checkAndTell(job: Job<CheckJobData>): Promise<ValidityStatus> {
    const status = await this.process(job);
    await this.deps.afterCheck?.(job.data, status);
    return status;
  }

  async process(job: Pick<Job<CheckJobData>, 'data' | 'id' | 'attemptsMade'>): Promise<ValidityStatus> {
    const data = job.data;
    if (data.recheck || job.attemptsMade > 0) return this.checkAgainstRecord(job);
    // A message's first check, nearly always its first sight: validate, then create the record in one step, which
    // refuses a record that exists (a job run twice); that one, and an invalid verdict, go the careful way.
    const verdict = await this.validate(data, false);
    if (isInvalid(verdict.status) || !(await this.deps.store.create(data, verdict.status, verdict.reason, this.deadlineOf(data)))) {
      return this.checkAgainstRecord(job, verdict);
    }
    if (!isSettled(verdict.status)) await this.whileNotSettled(data, verdict);
    return verdict.status;
  }

  /** Checks a message against its record (if any): retries, re-checks, duplicates and invalid verdicts. */
  private async checkAgainstRecord(job: Pick<Job<CheckJobData>, 'data' | 'id'>, verdictSoFar?: Verdict): Promise<ValidityStatus> {
    const data = job.data;
    const existing = await this.deps.store.get(data.id);
    if (existing && existing.safety !== 'unsafe' && existing.safety !== 'cross-safe') return existing.status;
    if (existing && isSettled(existing.status) && !data.recheck) return existing.status;

    const verdict = verdictSoFar ?? (await this.validate(data, data.recheck === true));
    const deadlineAt = this.deadlineOf(data);

    if (!existing) {
      if (isInvalid(verdict.status)) await this.publish(invalidEventOf(verdict.status), data, verdict, 'unsafe');
      await this.deps.store.create(data, verdict.status, verdict.reason, deadlineAt);
    } else if (existing.status !== verdict.status) {
      await this.publishChange(existing, verdict, job);
      await this.deps.store.setStatus(data, existing.status, verdict.status, verdict.reason, deadlineAt);
    }

    if (!isSettled(verdict.status)) await this.whileNotSettled(data, verdict);
    return verdict.status;
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

  /** Reports a message stuck in `future`/`unknown`, drops it if its block is gone, else retries later. */
  private async whileNotSettled(data: MessageData, verdict: Verdict): Promise<never | void> {
    if (Date.now() > data.seenAt + this.options.pendingDeadlineS * 1000) {
      await this.publish('pending_timeout', data, verdict, 'unsafe');
      await this.deps.store.mark(data.id, 'pending_timeout', verdict.reason);
    }
    const rpc = this.deps.rpcs.get(data.chainId);
    const header = await rpc?.header(BigInt(data.blockNumber)).catch(() => undefined);
    if (header && header.hash.toLowerCase() !== data.blockHash.toLowerCase()) {
      const record = await this.deps.store.get(data.id);
      if (record) await this.deps.store.drop(record, 'reorged', `block ${data.blockNumber} is now ${header.hash}`);
      this.deps.log.info({ messageId: data.id }, 'executing block reorged out before the message settled; dropped');
      return;
    }
    throw new NotSettledYet(`${verdict.status}: ${verdict.reason}`);
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
