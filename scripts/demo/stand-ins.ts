import type { Hex } from 'viem';
import { messageChecksum } from '../../src/chain/access-list.js';
import type { Identifier } from '../../src/chain/inbox.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { type FailsafeAdminStandIn, startFailsafeAdminStandIn } from '../../src/devnet/failsafe-admin-stand-in.js';
import { type FilterStandIn, startFilterStandIn } from '../../src/devnet/filter-stand-in.js';
import { type SupernodeStandIn, startSupernodeStandIn } from '../../src/devnet/supernode-stand-in.js';

/**
 * The Superchain services xmsg talks to besides the chains, as loopback stand-ins: op-supernode (asked about each
 * cross-safety violation's block, so the console's violation page shows its view), op-interop-filter (its verdict on
 * each message, compared with xmsg's) and the filter's admin port (the failsafe a visitor can switch with two typed
 * names in the console). Nothing to install and no account: they live in the demo's process and stop with it.
 */
export interface DemoStandIns {
  supernode: SupernodeStandIn;
  filter: FilterStandIn;
  failsafeAdmin: FailsafeAdminStandIn;
  /** xmsg's variables that point it at them. */
  env: { XMSG_SUPERNODE_RPCS: string; XMSG_INTEROP_FILTER_RPC: string; XMSG_FAILSAFE_RPCS: string };
  /** The filter answers "conflicting data" for this message, as the real filter answers one it cannot find. */
  rejectAtFilter(id: Identifier, msgHash: Hex): void;
  /** Heads of the supernode, set by the demo's safety labels (which play the node's view of them). */
  setSupernodeHeads(chainId: number, safe: bigint, finalized: bigint): void;
  close(): Promise<void>;
}

export async function startStandIns(devnet: Devnet): Promise<DemoStandIns> {
  const started: Array<{ close(): Promise<void> }> = [];
  const close = async () => {
    await Promise.all(started.map((s) => s.close().catch(() => undefined)));
  };
  try {
    // The supernode reads anvil itself, not through xmsg's proxy: the node outage scenario is the node's, not its.
    const supernode = await startSupernodeStandIn(devnet.chains.map((c) => ({ chainId: c.chainId, rpcUrl: c.anvilUrl })));
    started.push(supernode);
    const filter = await startFilterStandIn(devnet.chains.map((c) => c.chainId));
    started.push(filter);
    // The admin port is the filter's own: with the failsafe on, the filter refuses every check (xmsg: no verdict).
    const failsafeAdmin = await startFailsafeAdminStandIn({ filter });
    started.push(failsafeAdmin);
    return {
      supernode,
      filter,
      failsafeAdmin,
      env: { XMSG_SUPERNODE_RPCS: supernode.url, XMSG_INTEROP_FILTER_RPC: filter.url, XMSG_FAILSAFE_RPCS: failsafeAdmin.url },
      rejectAtFilter: (id, msgHash) => filter.reject(messageChecksum(id, msgHash)),
      setSupernodeHeads: (chainId, safe, finalized) => {
        supernode.setSafe(chainId, safe);
        supernode.setFinalized(chainId, finalized);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
