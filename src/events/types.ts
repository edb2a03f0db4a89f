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
  'access_list_mismatch',
  'cross_safety_violation',
  'replaced',
  'unpromoted',
  'promoted',
  // A message reported unpromoted whose executing block was reorged out: it settles that alert as a promotion does.
  'reorged',
  'pending_timeout',
  'status_flip',
  // op-interop-filter's interop_checkAccessList disagreed with the message's settled status.
  'filter_divergence',
  'chain_unhealthy',
  'chain_recovered',
  'chain_unwatched',
  'state_lost',
  'chain_rescanned',
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
  type: Exclude<EventType, ChainEvent['type'] | StateEvent['type']>;
  message: MessageSnapshot;
  /** status_flip: the status before the flip */
  previousStatus?: ValidityStatus;
  /** cross_safety_violation / promoted: the safe head that passed the block */
  safeHead?: string;
  /** replaced / reorged: the block now at the executing block's height */
  replacementBlockHash?: string;
  /** filter_divergence: what op-interop-filter answered (`valid`, or `invalid` with its JSON-RPC error) */
  filter?: { endpoint: string; status: 'valid' | 'invalid'; code?: number; message?: string };
}

export interface ChainEvent extends EventBase {
  /** chain_unwatched: a dependency-set chain without an RPC, whose messages can only be `unverified`. */
  type: 'chain_unhealthy' | 'chain_recovered' | 'chain_unwatched';
  chainId: number;
  reason: string;
}

/** A deployment marker as events carry it (src/store/deployment.ts). */
export interface DeploymentRef {
  id: string;
  createdAt: number;
}

/**
 * Redis lost xmsg's state: the deployment marker a replica held vanished or changed (docs/ARCHITECTURE.md §3). Its id
 * is `state_lost-<new deployment id>`, so every replica that notices the same loss publishes the same event.
 */
export interface StateLostEvent extends EventBase {
  type: 'state_lost';
  /** The marker that is gone. */
  lost: DeploymentRef;
  /** The marker Redis holds now. */
  deployment: DeploymentRef;
}

/**
 * After a state loss, where a chain's follower resumed: from the cursor a replica remembered (`restored`), or, with
 * none remembered, near the head. Belongs to the `state_lost-<deploymentId>` event; id `chain_rescanned-<deploymentId>-<chain>`.
 */
export interface ChainRescannedEvent extends EventBase {
  type: 'chain_rescanned';
  chainId: number;
  deploymentId: string;
  /** The first block read again, in decimal. */
  fromBlock: string;
  restored: boolean;
}

export type StateEvent = StateLostEvent | ChainRescannedEvent;

export type DomainEvent = MessageEvent | ChainEvent | StateEvent;

/** Where domain events go: the alerting layer (`AlertService`), the event log line, and what tests and the demo record. */
export interface EventHandler {
  onEvent(event: DomainEvent): Promise<void>;
}

export const isMessageEvent = (e: DomainEvent): e is MessageEvent => 'message' in e;
