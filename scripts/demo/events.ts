import type { ChainEvent, DomainEvent, EventHandler, EventType, MessageEvent } from '../../src/events/types.js';
import { isMessageEvent } from '../../src/events/types.js';
import { type Colour, type Printer, paint, shortenHexIn, shortHash, shortMessageId, truncate } from './print.js';

/** What the demo knows about a message it sent, to label xmsg's events and to tell expected from surprising. */
export interface SentLabel {
  n: number;
  kind: string;
  /** Event types this message is meant to produce; anything else about it is a surprise. */
  expects: readonly EventType[];
}

const COLOUR_OF: Record<EventType, Colour> = {
  invalid_message: 'red',
  access_list_mismatch: 'red',
  cross_safety_violation: 'magenta',
  replaced: 'green',
  unpromoted: 'yellow',
  promoted: 'green',
  reorged: 'green',
  pending_timeout: 'yellow',
  status_flip: 'red',
  filter_divergence: 'yellow',
  chain_unhealthy: 'yellow',
  chain_recovered: 'green',
  chain_unwatched: 'yellow',
  state_lost: 'magenta',
  chain_rescanned: 'green',
};

// Scenarios wait for events that may already have arrived; this many recent ones are kept to look back at.
const RECENT_KEPT = 500;

interface Waiter {
  match: (e: DomainEvent) => boolean;
  resolve: (e: DomainEvent | undefined) => void;
}

/**
 * The demo's EventHandler, given to startApp: prints one line per domain event xmsg delivers, counts them by
 * type, and lets scenarios wait for the event they provoked.
 */
export class EventWatch implements EventHandler {
  readonly counts = new Map<EventType, number>();
  /** Events the demo did not provoke on purpose (e.g. an invalid_message for a message sent as valid). */
  readonly surprises: DomainEvent[] = [];
  private readonly recent: DomainEvent[] = [];
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly printer: Printer,
    private readonly labelOf: (msgHash: string) => SentLabel | undefined,
  ) {}

  async onEvent(event: DomainEvent): Promise<void> {
    // Never throw: a failing handler makes BullMQ retry the job, and the line would be printed twice.
    try {
      this.counts.set(event.type, (this.counts.get(event.type) ?? 0) + 1);
      const surprising = this.isSurprise(event);
      if (surprising) this.surprises.push(event);
      this.printer.line(this.describe(event, surprising));
      this.recent.push(event);
      if (this.recent.length > RECENT_KEPT) this.recent.shift();
      for (const waiter of this.waiters) {
        if (waiter.match(event)) {
          this.waiters.delete(waiter);
          waiter.resolve(event);
        }
      }
    } catch (err) {
      this.printer.line(paint('red', `demo: could not handle event ${event.id}: ${String(err)}`));
    }
  }

  /** The first event (already seen or still to come) of this type about this msgHash; undefined on timeout or abort. */
  waitForMessageEvent(type: EventType, msgHash: string, timeoutMs: number, signal: AbortSignal): Promise<MessageEvent | undefined> {
    const match = (e: DomainEvent): e is MessageEvent =>
      e.type === type && isMessageEvent(e) && e.message.msgHash.toLowerCase() === msgHash.toLowerCase();
    return this.waitFor(match, timeoutMs, signal);
  }

  private waitFor<E extends DomainEvent>(
    match: (e: DomainEvent) => e is E,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<E | undefined> {
    const seen = this.recent.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const finish = (e: DomainEvent | undefined) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        resolve(e && match(e) ? e : undefined);
      };
      const waiter: Waiter = { match, resolve: finish };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(onAbort, timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** The first chain event of this type about this chain at or after `since` (ms), seen or still to come. */
  waitForChainEvent(
    type: ChainEvent['type'],
    chainId: number,
    since: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<ChainEvent | undefined> {
    const match = (e: DomainEvent): e is ChainEvent => e.type === type && !isMessageEvent(e) && e.chainId === chainId && e.at >= since;
    return this.waitFor(match, timeoutMs, signal);
  }

  private isSurprise(event: DomainEvent): boolean {
    if (!isMessageEvent(event)) return false; // chain health is the node's business, not the demo's
    const label = this.labelOf(event.message.msgHash);
    return !label?.expects.includes(event.type);
  }

  private describe(event: DomainEvent, surprising: boolean): string {
    const type = paint(COLOUR_OF[event.type], event.type.padEnd(22));
    if (event.type === 'state_lost')
      return `${paint('cyan', '◆ event')} ${type} deployment ${event.lost.id} lost, now ${event.deployment.id}`;
    if (event.type === 'chain_rescanned')
      return `${paint('cyan', '◆ event')} ${type} chain ${event.chainId}  from block ${event.fromBlock}${event.restored ? '' : ' (nothing remembered)'}`;
    if (!isMessageEvent(event)) return `${paint('cyan', '◆ event')} ${type} chain ${event.chainId}  ${event.reason}`;
    const m = event.message;
    const label = this.labelOf(m.msgHash);
    const parts = [
      `${paint('cyan', '◆ event')} ${type}`,
      shortMessageId(m.id).padEnd(22),
      `status=${m.status}`.padEnd(15),
      label ? `#${label.n} ${label.kind}` : `msgHash ${shortHash(m.msgHash)}`,
    ];
    if (event.replacementBlockHash) parts.push(`→ block now ${shortHash(event.replacementBlockHash)}`);
    else if (event.safeHead) parts.push(`(safe head ${event.safeHead})`);
    if (m.status !== 'valid') parts.push(paint('grey', `reason: ${truncate(shortenHexIn(m.reason), 80)}`));
    if (surprising) parts.push(paint('red', '  ← not provoked by the demo'));
    return parts.join('  ');
  }
}
