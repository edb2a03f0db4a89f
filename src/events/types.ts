import type { ValidityStatus } from '../chain/validity.js';
import type { MessageData, Safety } from '../store/messages.js';

/**
 * Domain events: produced by the checker and the watcher (its follower and safety step), carried by the events
 * outbox (`src/jobs/events-outbox.ts`), consumed by the alerting layer. They sit beside their producers and below
 * their consumer, so each side imports them and never the other side (docs/ARCHITECTURE.md §2).
 */

/** Conditions operators must hear about (DESIGN.md §1, the operator contract), plus the ends of those conditions. */
export const EVENT_TYPES = [
  'invalid_message',
  'cross_safety_violation',
  'replaced',
  'unpromoted',
  'promoted',
  'pending_timeout',
  'status_flip',
  'chain_unhealthy',
  'chain_recovered',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A message as it stood when the event happened: everything an alert shows about it. */
export interface MessageSnapshot extends MessageData {
  status: ValidityStatus;
  reason: string;
  safety: Safety;
}

interface EventBase {
  /** Deterministic: the same condition seen by two replicas, or by a retried job, has the same id. */
  id: string;
  type: EventType;
  /** ms since epoch */
  at: number;
}

export interface MessageEvent extends EventBase {
  type: Exclude<EventType, 'chain_unhealthy' | 'chain_recovered'>;
  message: MessageSnapshot;
  /** status_flip: the status before the flip */
  previousStatus?: ValidityStatus;
  /** cross_safety_violation / promoted: the safe head that passed the block */
  safeHead?: string;
  /** replaced: the block now at the executing block's height */
  replacementBlockHash?: string;
}

export interface ChainEvent extends EventBase {
  type: 'chain_unhealthy' | 'chain_recovered';
  chainId: number;
  reason: string;
}

export type DomainEvent = MessageEvent | ChainEvent;

/** Where domain events go: the alerting layer (`AlertService`), the event log line, and what tests and the demo record. */
export interface EventHandler {
  onEvent(event: DomainEvent): Promise<void>;
}

export const isMessageEvent = (e: DomainEvent): e is MessageEvent => 'message' in e;
