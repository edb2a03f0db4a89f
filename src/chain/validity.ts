import type { Hex } from 'viem';
import { type Identifier, messagePayloadHash } from './inbox.js';
import type { ChainLog } from './rpc.js';

export const VALIDITY_STATUSES = ['valid', 'invalid', 'expired', 'timestamp_mismatch', 'future', 'unknown'] as const;
export type ValidityStatus = (typeof VALIDITY_STATUSES)[number];

/** Statuses that a check can end on; `future` and `unknown` are re-checked until they become one of these. */
export const isSettled = (s: ValidityStatus) => s !== 'future' && s !== 'unknown';
/** Statuses that make the executing block unfit to ever become cross-safe. */
export const isInvalid = (s: ValidityStatus) => s === 'invalid' || s === 'expired' || s === 'timestamp_mismatch';

export interface Verdict {
  status: ValidityStatus;
  reason: string;
}

/** What the source chain has at `id.blockNumber`: nothing yet, or the canonical block with all of its logs. */
export type SourceBlock =
  | { kind: 'not_yet_produced'; sourceHead: bigint }
  | { kind: 'block'; timestamp: bigint; logs: readonly ChainLog[] };

export interface ValidityRules {
  dependencySet: ReadonlySet<number>;
  expiryWindowS: number;
}

/** Checks that need nothing from the source chain; `undefined` when they all pass. */
export function checkWithoutSource(id: Identifier, executingTimestamp: bigint, rules: ValidityRules): Verdict | undefined {
  if (!rules.dependencySet.has(Number(id.chainId))) {
    return { status: 'invalid', reason: `source chain ${id.chainId} is not in the dependency set` };
  }
  if (id.timestamp > executingTimestamp) {
    return {
      status: 'invalid',
      reason: `identifier timestamp ${id.timestamp} is after the executing block's ${executingTimestamp}`,
    };
  }
  if (id.timestamp + BigInt(rules.expiryWindowS) < executingTimestamp) {
    return {
      status: 'expired',
      reason: `initiated at ${id.timestamp}, executed at ${executingTimestamp}: older than the ${rules.expiryWindowS} s expiry window`,
    };
  }
  return undefined;
}

/** The interop validity rules of DESIGN.md section 1, given what the source chain holds. */
export function checkValidity(
  msgHash: Hex,
  id: Identifier,
  executingTimestamp: bigint,
  source: SourceBlock,
  rules: ValidityRules,
): Verdict {
  const early = checkWithoutSource(id, executingTimestamp, rules);
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
