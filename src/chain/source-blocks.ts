import type { ChainRpc } from './rpc.js';
import type { SourceBlock } from './validity.js';

interface Entry {
  expiresAt: number;
  value: Promise<SourceBlock>;
}

/**
 * Initiating-side lookups, shared by every message that points into the same source block: one header and one
 * eth_getLogs per block however many messages reference it. Entries live briefly (a reorg of the source chain
 * must be seen by the re-check it triggers) and the cache is bounded.
 */
export class SourceBlocks {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly rpcs: ReadonlyMap<number, ChainRpc>,
    private readonly ttlMs = 5000,
    private readonly maxEntries = 4096,
  ) {}

  get(chainId: number, blockNumber: bigint, options: { fresh?: boolean } = {}): Promise<SourceBlock> {
    const key = `${chainId}/${blockNumber}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now && !options.fresh) return hit.value;

    const value = this.fetch(chainId, blockNumber);
    this.entries.set(key, { expiresAt: now + this.ttlMs, value });
    // A failed lookup is not remembered: the retry must ask the node again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    this.evict(now);
    return value;
  }

  private async fetch(chainId: number, blockNumber: bigint): Promise<SourceBlock> {
    const rpc = this.rpcs.get(chainId);
    if (!rpc) throw new Error(`no RPC configured for source chain ${chainId}`);
    const header = await rpc.header(blockNumber);
    if (!header) {
      // Cached briefly like any other answer; the checker retries a `future` message with backoff anyway.
      return { kind: 'not_yet_produced', sourceHead: await rpc.blockNumber() };
    }
    const logs = await rpc.logsOfBlock(header.hash);
    return { kind: 'block', timestamp: header.timestamp, logs };
  }

  private evict(now: number): void {
    if (this.entries.size <= this.maxEntries) return;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now || this.entries.size > this.maxEntries) this.entries.delete(key);
      if (this.entries.size <= this.maxEntries / 2) break;
    }
  }
}
