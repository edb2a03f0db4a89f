import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Hex } from 'viem';
import { messageEntries } from '../chain/access-list.js';
import { filterDivergence, type InteropFilterClient } from '../chain/interop-filter.js';
import type { ValidityStatus } from '../chain/validity.js';
import type { Metrics } from '../metrics.js';
import { SECOND_OPINION_JOBS, SECOND_OPINION_WORKER } from '../queues/defaults.js';
import { identifierOf, type MessageData, type MessageStore } from '../store/messages.js';
import type { EventOutbox } from './events-outbox.js';
import { type LegacySlice, type PackedSlice, unpackSlice } from './slice.js';

export const SECOND_OPINION_QUEUE = 'second-opinion';

/**
 * The most calls a replica has at op-interop-filter at once (its worker runs one job at a time). The filter is the
 * operator's ingress check, which xmsg watches: a storm of messages (a slice holds up to 500) must not turn into a
 * storm of calls at it, nor into as many sockets here; a slow filter costs the backlog time instead.
 */
export const FILTER_CALLS_IN_FLIGHT = 16;

/** Checked messages to cross-check: a slice as its check job carried it, or one message; null for one not settled. */
export interface SecondOpinionJob {
  slice: PackedSlice | LegacySlice;
  statuses: Array<ValidityStatus | null>;
}

export interface FilterCrossCheckDeps {
  filter: InteropFilterClient;
  store: MessageStore;
  outbox: EventOutbox;
  connection: ConnectionOptions;
  prefix: string;
  metrics: Metrics;
  log: Logger;
}

/**
 * Asks op-interop-filter about each message the checker settled, and reports where its answer differs from xmsg's
 * (op-interop-mon's FilterObserver). The checker only queues the question (queue `second-opinion`): a slow or hung
 * filter must not hold the checks themselves. The filter is given the message's own access-list entries (lookup,
 * chain-id extension if needed, checksum) at the executing chain and block timestamp, as op-interop-mon replays one
 * message: an answer about the whole transaction could not be pinned on one of its messages. A filter that cannot
 * judge (down, in failsafe, not synced) is no verdict, never a divergence. A question never fails its job.
 */
export class FilterCrossCheck {
  readonly queue: Queue<SecondOpinionJob>;

  constructor(private readonly deps: FilterCrossCheckDeps) {
    this.queue = new Queue<SecondOpinionJob>(SECOND_OPINION_QUEUE, {
      connection: deps.connection,
      prefix: deps.prefix,
      defaultJobOptions: SECOND_OPINION_JOBS,
    });
  }

  /** A checked slice's settled messages to ask about; the slice checked again collapses into the same job. */
  async afterSlice(sliceJobId: string, slice: PackedSlice | LegacySlice, statuses: Array<ValidityStatus | null>): Promise<void> {
    if (statuses.every((status) => status === null)) return;
    await this.add({ slice, statuses }, `filter-${sliceJobId}`);
  }

  /** One message's settled status to ask about, once per status. */
  async afterCheck(data: MessageData, status: ValidityStatus): Promise<void> {
    await this.add({ slice: { messages: [data] }, statuses: [status] }, `filter-${data.id}-${status}`);
  }

  startWorker(): Worker<SecondOpinionJob> {
    const { connection, prefix, log } = this.deps;
    const worker: Worker<SecondOpinionJob> = new Worker<SecondOpinionJob>(SECOND_OPINION_QUEUE, (job) => this.askAbout(job, worker), {
      connection,
      prefix,
      ...SECOND_OPINION_WORKER,
    });
    worker.on('failed', (job, err) =>
      log.warn({ jobId: job?.id, err: err.message }, 'op-interop-filter cross-check cut short; will retry'),
    );
    return worker;
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  private async add(data: SecondOpinionJob, jobId: string): Promise<void> {
    // Queue<T> types the job name from T; this queue's job names are plain labels.
    await (this.queue as Queue).add('cross-check', data, { jobId });
  }

  /**
   * The job's messages, FILTER_CALLS_IN_FLIGHT at a time. A replica stopping takes no new one: the job is retried
   * (its messages asked again, their divergences collapsing by event id) instead of holding the stop.
   */
  private async askAbout(job: Job<SecondOpinionJob>, worker: Worker<SecondOpinionJob>): Promise<void> {
    const messages = unpackSlice(job.data.slice);
    const { statuses } = job.data;
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < messages.length; i = next++) {
        if (worker.closing) throw new Error('the replica is stopping');
        const status = statuses[i];
        if (status) await this.crossCheck(messages[i]!, status);
      }
    };
    await Promise.all(Array.from({ length: FILTER_CALLS_IN_FLIGHT }, lane));
  }

  /** Never throws. */
  private async crossCheck(data: MessageData, status: ValidityStatus): Promise<void> {
    try {
      const entries = messageEntries(identifierOf(data), data.msgHash as Hex);
      const answer = await this.deps.filter.checkAccessList(entries, { chainId: data.chainId, timestamp: BigInt(data.blockTimestamp) });
      if (answer.status === 'no_verdict') {
        this.deps.log.debug({ messageId: data.id, reason: answer.reason }, 'op-interop-filter gave no verdict');
        return;
      }
      const diverged = filterDivergence(status, answer);
      if (!diverged) return;
      this.deps.metrics.filterDivergence.inc({ xmsg_status: diverged.xmsgStatus, filter_status: diverged.filterStatus });
      this.deps.log.warn({ messageId: data.id, xmsgStatus: status, filter: answer }, 'op-interop-filter disagrees with xmsg');
      const record = await this.deps.store.get(data.id);
      const reason = record?.status === status ? record.reason : '';
      await this.deps.outbox.publish({
        // Per message and xmsg status: a later flip of the status is a new comparison, the same one again is not.
        id: `filter_divergence-${data.id}-${status}`,
        type: 'filter_divergence',
        at: Date.now(),
        message: { ...data, status, reason, safety: record?.safety ?? 'unsafe' },
        filter:
          answer.status === 'invalid'
            ? { endpoint: this.deps.filter.label, status: 'invalid', code: answer.code, message: answer.message }
            : { endpoint: this.deps.filter.label, status: 'valid' },
      });
    } catch (err) {
      this.deps.log.warn({ messageId: data.id, err: (err as Error).message }, 'op-interop-filter cross-check failed');
    }
  }
}
