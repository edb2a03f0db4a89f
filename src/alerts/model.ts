import type { MessageSnapshot } from '../events/types.js';

export const ALERT_KINDS = [
  'invalid_message',
  'access_list_mismatch',
  'cross_safety_violation',
  'unpromoted',
  'pending_timeout',
  'status_flip',
  'filter_divergence',
  'chain_unhealthy',
  'unwatched_chain',
  'state_lost',
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
  /** The chain the condition is on; 0 for one about the whole deployment (`state_lost`, see DEPLOYMENT_WIDE). */
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
      'The sequencer included an executing message that fails validation. Expect the block to be replaced by a deposits-only block before it becomes cross-safe; the thread says when. If it is not replaced, check op-supernode (or the op-node of the chain) and the batcher.',
    pageAtOnce: false,
  },
  access_list_mismatch: {
    severity: 'critical',
    title: (c) => `Executing message not declared in its access list on chain ${c}`,
    runbook:
      'The transaction that emitted this ExecutingMessage does not declare the message in its EIP-2930 access list, which the real CrossL2Inbox requires: the log was forged by a faulty inbox or sequencer. Expect the block to be replaced before it becomes cross-safe, as for an invalid message; if it is not, check the sequencer and the inbox predeploy code.',
    pageAtOnce: false,
  },
  cross_safety_violation: {
    severity: 'critical',
    title: (c) => `CONSENSUS BUG: invalid message in a cross-safe block on chain ${c}`,
    runbook:
      "A block carrying an invalid executing message is at or below the cross-safe head and still canonical. Escalate now and consider the failsafe (two-person rule). With XMSG_SUPERNODE_RPCS set the page states op-supernode's view beside the node's safe label: if they disagree, suspect the node's label first; otherwise compare op-node (optimism_syncStatus) and op-supernode (supernode_syncStatus, superroot_atTimestamp) views of the block.",
    pageAtOnce: true,
  },
  unpromoted: {
    severity: 'warning',
    title: (c) => `Valid messages not cross-safe in time on chain ${c}`,
    runbook:
      'Valid executing messages (or unverified ones, whose source chain xmsg has no RPC for) are still below the cross-safe head past the promotion deadline. Check batch submission to L1, op-node derivation and op-supernode for this chain and its dependencies. Resolves itself when they are promoted.',
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
  filter_divergence: {
    severity: 'warning',
    title: (c) => `op-interop-filter disagrees with xmsg on messages of chain ${c}`,
    runbook:
      "op-interop-filter's interop_checkAccessList, asked about the message's own access-list entries at its executing block's timestamp, answered otherwise than xmsg's check. Filter says invalid, xmsg valid: the filter may lag or miss the initiating log (its ingesters, a reorg it has not seen), and it refuses good transactions at ingress. Filter says valid, xmsg invalid: one of the two reads the source chain wrongly, and the filter lets bad messages in: compare the initiating log on the source chain with `/xmsg status`.",
    pageAtOnce: false,
  },
  chain_unhealthy: {
    severity: 'warning',
    title: (c) => `Chain ${c} node unreachable or stalled`,
    runbook:
      'xmsg cannot follow this chain: its RPC fails or its head stopped advancing. Messages on and from it are not being checked. Check the node and its peers. Resolves itself when the chain recovers.',
    pageAtOnce: false,
  },
  unwatched_chain: {
    severity: 'warning',
    title: (c) => `Chain ${c} is in the dependency set but not watched`,
    runbook:
      "XMSG_L2_RPCS has no RPC for this dependency-set chain, so messages initiated on it cannot be checked: they are shown as unverified, never invalid, and their blocks may become cross-safe without a violation. Add the chain's RPC to XMSG_L2_RPCS and restart to check them; resolve this alert once done, or if the chain is deliberately not watched.",
    pageAtOnce: false,
  },
  state_lost: {
    severity: 'critical',
    title: () => 'xmsg lost its state in Redis: chains are re-scanned, earlier alerts are gone',
    runbook:
      "Redis came back without xmsg's data (restarted without persistence, flushed, or failed over to a replica that had not synced): the deployment marker every replica holds vanished. Lost: the chains' cursors, the tracked messages and their checks, every earlier alert with its thread state (numbers restart at XM-1; buttons of earlier alerts now answer that they belong to an earlier state and change nothing) and the silences. xmsg re-created the marker and re-scans each chain from the last block a running replica remembered; the thread says from which block, and a chain nobody remembered starts near its head (blocks from before that are not checked). Fix Redis persistence or failover, re-create the silences you need, and check the earlier open alerts by hand.",
    pageAtOnce: true,
  },
};

/** The chain id of an alert about the whole deployment rather than one chain. */
export const DEPLOYMENT_WIDE = 0;

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
