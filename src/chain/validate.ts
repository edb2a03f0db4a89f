import type { Hex } from 'viem';
import type { ActivationBlocks } from './activation.js';
import type { Identifier } from './inbox.js';
import type { SourceBlocks } from './source-blocks.js';
import {
  checkActivationBlock,
  checkValidity,
  checkWithoutSource,
  type ExecutingBlock,
  needsActivationBlock,
  unverified,
  type ValidityRules,
  type Verdict,
} from './validity.js';

/** What a check looks up on the chains. */
export interface ChainLookups {
  /** The source blocks, shared per block. */
  sources: SourceBlocks;
  activationBlocks: ActivationBlocks;
  /** The chains xmsg has an RPC for. */
  watched: { has(chainId: number): boolean };
}

/**
 * The validity verdict of one executing message: the rules that need nothing, then the activation blocks and the
 * source block (shared per block) when needed. A dependency-set chain without an RPC cannot be looked at: its
 * messages are `unverified` once everything decidable without it has passed.
 */
export async function validateExecuting(
  msgHash: Hex,
  id: Identifier,
  executing: ExecutingBlock,
  lookups: ChainLookups,
  rules: ValidityRules,
  fresh = false,
): Promise<Verdict> {
  const early = checkWithoutSource(id, executing, rules);
  if (early) return early;
  const sourceChainId = Number(id.chainId);
  try {
    const executingSide = await activationBlockVerdict('executing', executing.chainId, executing.blockNumber, executing.timestamp);
    if (executingSide) return executingSide;
    if (!lookups.watched.has(sourceChainId)) return unverified(sourceChainId);
    const initiatingSide = await activationBlockVerdict('initiating', sourceChainId, id.blockNumber, id.timestamp);
    if (initiatingSide) return initiatingSide;
    const source = await lookups.sources.get(sourceChainId, id.blockNumber, { fresh });
    return checkValidity(msgHash, id, executing, source, rules);
  } catch (err) {
    return { status: 'unknown', reason: `source lookup failed: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }

  async function activationBlockVerdict(side: 'executing' | 'initiating', chainId: number, blockNumber: bigint, timestamp: bigint) {
    const chain = rules.dependencySet.get(chainId);
    if (!needsActivationBlock(chain, timestamp)) return undefined;
    // Not produced yet (only a source block can be ahead of its chain): the source lookup answers `future`.
    const activationBlock = await lookups.activationBlocks.of(chainId, chain.activationTime);
    return activationBlock === undefined ? undefined : checkActivationBlock(side, chainId, blockNumber, activationBlock, chain);
  }
}
