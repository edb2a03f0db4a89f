import type { MessageSnapshot } from '../events/types.js';

export const ALERT_KINDS = [
  'invalid_message',
  'cross_safety_violation',
  'unpromoted',
  'pending_timeout',
  'status_flip',
  'chain_unhealthy',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type Severity = 'critical' | 'warning';
export type AlertState = 'open' | 'acknowledged' | 'resolved';

/** A message as an alert shows it: enough to find it on chain and in /xmsg status. */
export interface MessageSummary {
  id: string;
  executingChainId: number;
  blockNumber: string;
  blockHash: string;
  txHash: string;
  logIndex: number;
  msgHash: string;
  identifier: MessageSnapshot['identifier'];
  status: string;
  reason: string;
}

export interface Alert {
  id: string;
  kind: AlertKind;
  severity: Severity;
  state: AlertState;
  dedupKey: string;
  title: string;
  /** How many messages (or occurrences) the alert covers. */
  count: number;
  /** The first few messages, for the root post. */
  sample: MessageSummary[];
  chainId: number;
  sourceChainIds: number[];
  createdAt: number;
  lastAt: number;
  escalationLevel: number;
  silenceId: string;
  ackedBy: string;
  resolvedBy: string;
  /** Latest problem text, e.g. the reason of the newest message or the RPC error. */
  detail: string;
  /** Change sequence: every change the chat threads must show gets the next number. */
  seq: number;
}

export interface AuditEntry {
  at: number;
  /** Who: a chat user ("slack:U123 (alice)"), or "xmsg" for automatic changes. */
  who: string;
  action: string;
  note?: string;
}

export interface KindInfo {
  severity: Severity;
  title: (chainId: number) => string;
  runbook: string;
  /** Pages the on-call role on the first post instead of waiting for the escalation timer. */
  pageAtOnce: boolean;
}

export const KINDS: Record<AlertKind, KindInfo> = {
  invalid_message: {
    severity: 'critical',
    title: (c) => `Invalid executing message on chain ${c}`,
    runbook:
      'The sequencer included an executing message that fails validation. Expect the block to be replaced by a deposits-only block before it becomes cross-safe; the thread says when. If it is not replaced, check the supervisor and the batcher.',
    pageAtOnce: false,
  },
  cross_safety_violation: {
    severity: 'critical',
    title: (c) => `CONSENSUS BUG: invalid message in a cross-safe block on chain ${c}`,
    runbook:
      'A block carrying an invalid executing message is at or below the cross-safe head and still canonical. Escalate now, consider pausing the bridge, and compare op-supervisor / op-node views of the block.',
    pageAtOnce: true,
  },
  unpromoted: {
    severity: 'warning',
    title: (c) => `Valid messages not cross-safe in time on chain ${c}`,
    runbook:
      'Valid executing messages are still below the cross-safe head past the promotion deadline. Check batch submission to L1, op-node derivation and the supervisor of this chain and its dependencies. Resolves itself when they are promoted.',
    pageAtOnce: false,
  },
  pending_timeout: {
    severity: 'warning',
    title: (c) => `Messages on chain ${c} cannot be checked against their source`,
    runbook:
      'The source chain has not produced the referenced block yet (future) or the lookup keeps failing (unknown). Check the source chain node and its sync state; a message from a block that never comes is invalid.',
    pageAtOnce: false,
  },
  status_flip: {
    severity: 'critical',
    title: (c) => `Message validity changed after a source-chain reorg (chain ${c})`,
    runbook:
      'A message checked earlier changed between valid and invalid because its source chain reorged. Check whether its executing block is being replaced; if it is cross-safe, treat it as a consensus bug.',
    pageAtOnce: false,
  },
  chain_unhealthy: {
    severity: 'warning',
    title: (c) => `Chain ${c} node unreachable or stalled`,
    runbook:
      'xmsg cannot follow this chain: its RPC fails or its head stopped advancing. Messages on and from it are not being checked. Check the node and its peers. Resolves itself when the chain recovers.',
    pageAtOnce: false,
  },
};

export const isAlertKind = (s: string): s is AlertKind => (ALERT_KINDS as readonly string[]).includes(s);

/** One line for an alert's state, shown the same way on every platform. */
export function stateLine(a: Alert): string {
  const parts = [
    a.state === 'acknowledged' ? `acknowledged by ${a.ackedBy}` : a.state === 'resolved' ? `resolved by ${a.resolvedBy}` : 'open',
  ];
  if (a.silenceId) parts.push(`silenced (${a.silenceId})`);
  if (a.escalationLevel > 0) parts.push(`escalation level ${a.escalationLevel}`);
  return parts.join(', ');
}
