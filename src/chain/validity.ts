import type { Hex } from 'viem';
import { type Identifier, messagePayloadHash } from './inbox.js';
import type { ChainLog } from './rpc.js';

export const VALIDITY_STATUSES = [
  'valid',
  'invalid',
  'expired',
  'timestamp_mismatch',
  'access_list_mismatch',
  'unverified',
  'future',
  'unknown',
] as const;
export type ValidityStatus = (typeof VALIDITY_STATUSES)[number];

/**
 * Statuses that a check can end on; `future` and `unknown` are re-checked until they become one of these.
 * `unverified` is settled too: its source chain has no RPC, so checking again would tell nothing new.
 */
export const isSettled = (s: ValidityStatus) => s !== 'future' && s !== 'unknown';
/**
 * Statuses that make the executing block unfit to ever become cross-safe. `unverified` is not one of them.
 * `access_list_mismatch`: the executing transaction does not declare the message in its access list
 * (src/chain/access-list.ts), so the real inbox cannot have emitted its log.
 */
export const isInvalid = (s: ValidityStatus) =>
  s === 'invalid' || s === 'expired' || s === 'timestamp_mismatch' || s === 'access_list_mismatch';
/**
 * Statuses whose executing block is expected to become cross-safe, so that one still below the safe head after
 * XMSG_PROMOTION_DEADLINE_S is reported unpromoted: `valid`, and `unverified` (its source chain has no RPC here, so
 * the cluster's promotion is the only sign it was valid; a block held back is as much a page as a valid one's).
 */
export const awaitsPromotion = (s: ValidityStatus) => s === 'valid' || s === 'unverified';

export interface Verdict {
  status: ValidityStatus;
  reason: string;
}

/** What the source chain has at `id.blockNumber`: nothing yet, or the canonical block with all of its logs. */
export type SourceBlock =
  | { kind: 'not_yet_produced'; sourceHead: bigint }
  | { kind: 'block'; timestamp: bigint; logs: readonly ChainLog[] };

/** Where an executing message was included: its chain, block and that block's timestamp. */
export interface ExecutingBlock {
  chainId: number;
  blockNumber: bigint;
  timestamp: bigint;
}

/** A chain's entry in the dependency set (the file's `dependencies["<chain id>"]`), in seconds; 0 when not given. */
export interface DependencyChain {
  /** The chain's interop activation: its activation block is the first block at or after this time. */
  activationTime: bigint;
  /** The oldest initiating timestamp other chains may use (op-supervisor's `CanInitiateAt`). */
  historyMinTime: bigint;
}

/** An entry without activationTime or historyMinTime: every block and every initiating timestamp may take part. */
export const ACTIVE_SINCE_GENESIS: DependencyChain = Object.freeze({ activationTime: 0n, historyMinTime: 0n });

export interface ValidityRules {
  /** The chains initiating messages may come from, with their activation. */
  dependencySet: ReadonlyMap<number, DependencyChain>;
  /** The message expiry window in seconds: 604800, or the dependency set's shorter override. */
  expiryWindowS: number;
}

type Side = 'executing' | 'initiating';

/** Checks that need no chain lookup; `undefined` when they all pass. */
export function checkWithoutSource(id: Identifier, executing: ExecutingBlock, rules: ValidityRules): Verdict | undefined {
  const source = rules.dependencySet.get(Number(id.chainId));
  // specs/interop/messaging.md, ChainID Invariant: "The chain id of the initiating message MUST be in the dependency set".
  if (!source) {
    return { status: 'invalid', reason: `source chain ${id.chainId} is not in the dependency set` };
  }
  // messaging.md, Timestamp Invariant: the initiating timestamp "MUST be less than or equal to the timestamp of the
  // executing message".
  if (id.timestamp > executing.timestamp) {
    return {
      status: 'invalid',
      reason: `identifier timestamp ${id.timestamp} is after the executing block's ${executing.timestamp}`,
    };
  }
  const executingChain = rules.dependencySet.get(executing.chainId);
  const early =
    (executingChain && beforeActivation('executing', executing.chainId, executing.timestamp, executingChain)) ||
    beforeActivation('initiating', Number(id.chainId), id.timestamp, source);
  if (early) return early;
  // op-supervisor's CanInitiateAt (depset/static.go): `initTimestamp >= HistoryMinTime`, else a conflict.
  if (id.timestamp < source.historyMinTime) {
    return {
      status: 'invalid',
      reason: `initiated at ${id.timestamp}, before chain ${id.chainId}'s historyMinTime ${source.historyMinTime} in the dependency set`,
    };
  }
  // messaging.md, Message Expiry Invariant, the normative sentence: it "invalidates inclusion of any executing message
  // with `id.timestamp + EXPIRY_TIME < executing_block.timestamp`". So `id.timestamp + window == executing timestamp`
  // is still valid, as op-supernode (`executingTimestamp-execMsg.Timestamp > messageExpiryWindow`) and kona accept;
  // the one-second-stricter restatements in the invariant lists (specs#931) are not followed.
  if (id.timestamp + BigInt(rules.expiryWindowS) < executing.timestamp) {
    return {
      status: 'expired',
      reason: `initiated at ${id.timestamp}, executed at ${executing.timestamp}: older than the ${rules.expiryWindowS} s expiry window`,
    };
  }
  return undefined;
}

/**
 * The activation rule, from timestamps alone. messaging.md, Timestamp Invariant: the initiating timestamp MUST be
 * "greater than or equal to the Interop Start Timestamp"; derivation.md, Invariants: the block number "is `>` the
 * activation block number", the activation block being the first block at or after the activation time (it carries
 * the upgrade's deposits only). op-supernode (`verifyExecutingMessage`, ErrExecutedTooEarly/ErrInitiatedTooEarly) and
 * kona enforce it on both chains. A block before the activation time, or exactly at it (block timestamps strictly
 * increase, so that one is the first at or after it), fails here; a later block may still be the activation block
 * when the activation time falls between two blocks: `checkActivationBlock` decides that with the block's number.
 */
function beforeActivation(side: Side, chainId: number, timestamp: bigint, chain: DependencyChain): Verdict | undefined {
  const { activationTime } = chain;
  if (timestamp < activationTime) {
    return {
      status: 'invalid',
      reason: `${side} block time ${timestamp} is before chain ${chainId}'s interop activation at ${activationTime}`,
    };
  }
  if (timestamp === activationTime && activationTime > 0n) return inActivationBlock(side, chainId, activationTime);
  return undefined;
}

/**
 * Whether a block after the activation time still has to be compared with its chain's activation block (looked up on
 * the chain): only when the chain has an activation time at all.
 */
export const needsActivationBlock = (chain: DependencyChain | undefined, timestamp: bigint): chain is DependencyChain =>
  chain !== undefined && chain.activationTime > 0n && timestamp > chain.activationTime;

/** The activation rule with the chain's activation block known: the message's block must come after it. */
export function checkActivationBlock(
  side: Side,
  chainId: number,
  blockNumber: bigint,
  activationBlock: bigint,
  chain: DependencyChain,
): Verdict | undefined {
  if (blockNumber <= activationBlock) return inActivationBlock(side, chainId, chain.activationTime, activationBlock);
  return undefined;
}

function inActivationBlock(side: Side, chainId: number, activationTime: bigint, blockNumber?: bigint): Verdict {
  const which = blockNumber === undefined ? '' : ` ${blockNumber}`;
  return {
    status: 'invalid',
    reason: `${side} block is chain ${chainId}'s interop activation block${which} (the first at or after ${activationTime}), which carries no interop messages`,
  };
}

/** A dependency-set chain xmsg has no RPC for: what the identifier says cannot be checked. */
export const unverified = (chainId: bigint | number): Verdict => ({ status: 'unverified', reason: `no RPC for chain ${chainId}` });

/** The interop validity rules of DESIGN.md section 1, given what the source chain holds. */
export function checkValidity(msgHash: Hex, id: Identifier, executing: ExecutingBlock, source: SourceBlock, rules: ValidityRules): Verdict {
  const early = checkWithoutSource(id, executing, rules);
  if (early) return early;
  if (source.kind === 'not_yet_produced') {
    return {
      status: 'future',
      reason: `source chain ${id.chainId} is at block ${source.sourceHead}, before ${id.blockNumber}`,
    };
  }
  if (source.timestamp !== id.timestamp) {
    return {
      status: 'timestamp_mismatch',
      reason: `source block ${id.blockNumber} has timestamp ${source.timestamp}, identifier says ${id.timestamp}`,
    };
  }
  const log = source.logs.find((l) => l.logIndex === id.logIndex);
  if (!log) {
    return { status: 'invalid', reason: `source block ${id.blockNumber} has no log at index ${id.logIndex}` };
  }
  if (log.address.toLowerCase() !== id.origin.toLowerCase()) {
    return { status: 'invalid', reason: `log ${id.logIndex} was emitted by ${log.address}, not by origin ${id.origin}` };
  }
  const actual = messagePayloadHash(log);
  if (actual.toLowerCase() !== msgHash.toLowerCase()) {
    return { status: 'invalid', reason: `msgHash ${msgHash} does not match the initiating log's payload hash ${actual}` };
  }
  return { status: 'valid', reason: 'initiating log found and matches' };
}
