import type { Logger } from 'pino';
import type { Hex } from 'viem';
import { messageEntries } from '../chain/access-list.js';
import { filterDivergence, type InteropFilterClient } from '../chain/interop-filter.js';
import type { ValidityStatus } from '../chain/validity.js';
import type { Metrics } from '../metrics.js';
import { identifierOf, type MessageData, type MessageStore } from '../store/messages.js';
import type { EventOutbox } from './events-outbox.js';

export interface FilterCrossCheckDeps {
  filter: InteropFilterClient;
  store: MessageStore;
  outbox: EventOutbox;
  metrics: Metrics;
  log: Logger;
}

/**
 * Asks op-interop-filter about each message the checker settled, and reports where its answer differs from xmsg's
 * (op-interop-mon's FilterObserver). The filter is given the message's own access-list entries (lookup, chain-id
 * extension if needed, checksum) at the executing chain and block timestamp, as op-interop-mon replays one message:
 * an answer about the whole transaction could not be pinned on one of its messages. A filter that cannot judge
 * (down, in failsafe, not synced) is no verdict, never a divergence. Never throws: it must not fail the check.
 */
export class FilterCrossCheck {
  constructor(private readonly deps: FilterCrossCheckDeps) {}

  async afterCheck(data: MessageData, status: ValidityStatus): Promise<void> {
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
