import type { ChainRpc } from './rpc.js';

/**
 * Each chain's interop activation block: the first block whose timestamp is at or after the chain's activation time
 * (specs/interop/derivation.md: a message's block number "is `>` the activation block number"). Found by a binary
 * search over the chain's headers the first time a message needs it (about log2(head) headers, once per chain; an
 * activation block never moves), shared by the checks running at the same time.
 */
export class ActivationBlocks {
  private readonly found = new Map<number, bigint>();
  private readonly searching = new Map<number, Promise<bigint | undefined>>();

  constructor(private readonly rpcs: ReadonlyMap<number, Pick<ChainRpc, 'header'>>) {}

  /** The activation block of `chainId`; `undefined` while the chain has no block at or after `activationTime` yet. */
  async of(chainId: number, activationTime: bigint): Promise<bigint | undefined> {
    const known = this.found.get(chainId);
    if (known !== undefined) return known;
    let search = this.searching.get(chainId);
    if (!search) {
      search = this.search(chainId, activationTime).finally(() => this.searching.delete(chainId));
      this.searching.set(chainId, search);
    }
    const block = await search;
    if (block !== undefined) this.found.set(chainId, block);
    return block;
  }

  private async search(chainId: number, activationTime: bigint): Promise<bigint | undefined> {
    const rpc = this.rpcs.get(chainId);
    if (!rpc) throw new Error(`no RPC for chain ${chainId}`);
    const head = await rpc.header('latest');
    if (!head || head.timestamp < activationTime) return undefined;
    // The first block in [low, high] at or after the activation time; `high` always is one.
    let low = 0n;
    let high = head.number;
    while (low < high) {
      const mid = (low + high) / 2n;
      const header = await rpc.header(mid);
      if (!header) throw new Error(`chain ${chainId} has no block ${mid} below its head ${head.number}`);
      if (header.timestamp >= activationTime) high = mid;
      else low = mid + 1n;
    }
    return low;
  }
}
