import type { Address, Hex } from 'viem';
import { firstLine } from '../errors.js';
import { type AccessListCheck, checkDeclared, readInboxDeclarations } from './access-list.js';
import type { Identifier } from './inbox.js';
import type { ChainRpc } from './rpc.js';

/** The access-list check, or why it cannot be made now (the message is then `unknown` and checked again). */
export type AccessListLookup = AccessListCheck | { unknown: string };

/**
 * The access-list check of one executing log, reading its transaction again: for the jobs the follower did not hand
 * a check (a re-check after a source chain's reorg is made from the stored record). The follower's own check reads
 * whole blocks instead (`ChainRpc.blockTransactions`), once per block.
 */
export async function lookUpAccessListCheck(
  rpc: ChainRpc | undefined,
  inbox: Address,
  executing: { txHash: Hex; blockHash: Hex },
  id: Identifier,
  msgHash: Hex,
): Promise<AccessListLookup> {
  if (!rpc) return { unknown: 'no RPC for the executing chain to read the transaction' };
  try {
    const tx = await rpc.transactionAccess(executing.txHash);
    if (!tx || tx.blockHash.toLowerCase() !== executing.blockHash.toLowerCase()) {
      return { unknown: `transaction ${executing.txHash} is not in block ${executing.blockHash} on chain ${rpc.chainId}` };
    }
    return checkDeclared(readInboxDeclarations(tx.accessList, inbox), id, msgHash);
  } catch (err) {
    return { unknown: `reading the executing transaction's access list failed: ${firstLine(err)}` };
  }
}
