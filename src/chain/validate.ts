import type { Hex } from 'viem';
import type { Identifier } from './inbox.js';
import type { SourceBlocks } from './source-blocks.js';
import { checkValidity, checkWithoutSource, type ValidityRules, type Verdict } from './validity.js';

/** The validity verdict of one executing message, looking up its source block (shared per block) when needed. */
export async function validateExecuting(
  msgHash: Hex,
  id: Identifier,
  executedAt: bigint,
  sources: SourceBlocks,
  rules: ValidityRules,
  fresh = false,
): Promise<Verdict> {
  const early = checkWithoutSource(id, executedAt, rules);
  if (early) return early;
  try {
    const source = await sources.get(Number(id.chainId), id.blockNumber, { fresh });
    return checkValidity(msgHash, id, executedAt, source, rules);
  } catch (err) {
    return { status: 'unknown', reason: `source lookup failed: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }
}
