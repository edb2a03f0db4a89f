import { type DevChain, type Devnet, headNumber, setFinalized, setSafe } from '../../src/devnet/devnet.js';

/** How far the labels trail the unsafe head: close enough that valid messages are promoted within seconds. */
const SAFE_LAG = 2n;
const FINALIZED_LAG = 5n;

export interface Heads {
  latest: bigint;
  safe: bigint;
  finalized: bigint;
}

/**
 * Plays the part of the interop node's safety pipeline: every second, per chain, `safe` (cross-safe) becomes
 * latest - 2 and `finalized` latest - 5, as the devnet proxy answers them to xmsg. A scenario can hold a chain's
 * safe head back (a block that must not, or should not yet, become cross-safe).
 *
 * Labels never move backwards, as on a real node: after a block replacement the unsafe head drops, but what
 * was cross-safe stays cross-safe (replacements only happen above a hold, so above the safe head).
 */
export class SafetyLabels {
  private readonly heads = new Map<number, Heads>();
  // Per chain, per scenario: two scenarios may hold one chain, and one releasing must not free the other's block.
  private readonly holds = new Map<number, Map<string, bigint>>();
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  /**
   * `supernode`: where the same heads go first, as op-supernode's cross-safe and finalized heads (the node's labels
   * come from it, so xmsg never sees the node ahead of the supernode; its page of a violation shows them agreeing).
   */
  constructor(
    private readonly devnet: Devnet,
    private readonly supernode?: { setSupernodeHeads(chainId: number, safe: bigint, finalized: bigint): void },
    private readonly intervalMs = 1000,
  ) {}

  /** Sets the labels once (so xmsg's first look sees them, not anvil's own), then keeps them moving. */
  async start(): Promise<void> {
    await this.update();
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Keeps the chain's safe head at or below `block` until release() with the same `by`. */
  hold(chainId: number, by: string, block: bigint): void {
    const holds = this.holds.get(chainId) ?? new Map<string, bigint>();
    holds.set(by, block);
    this.holds.set(chainId, holds);
  }

  release(chainId: number, by: string): void {
    this.holds.get(chainId)?.delete(by);
  }

  isHeld(chainId: number): boolean {
    return this.holdOf(chainId) !== undefined;
  }

  private holdOf(chainId: number): bigint | undefined {
    let lowest: bigint | undefined;
    for (const block of this.holds.get(chainId)?.values() ?? []) if (lowest === undefined || block < lowest) lowest = block;
    return lowest;
  }

  snapshot(): ReadonlyMap<number, Readonly<Heads>> {
    return this.heads;
  }

  private headsOf(chainId: number): Heads {
    let heads = this.heads.get(chainId);
    if (!heads) {
      heads = { latest: 0n, safe: 0n, finalized: 0n };
      this.heads.set(chainId, heads);
    }
    return heads;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!this.running) break;
      // A failed read (anvil busy reverting, or stopping) just skips a beat; the next second tries again.
      await this.update().catch(() => undefined);
    }
  }

  async update(): Promise<void> {
    await Promise.all(this.devnet.chains.map((chain) => this.updateChain(chain)));
  }

  private async updateChain(chain: DevChain): Promise<void> {
    const latest = await headNumber(chain);
    const heads = this.headsOf(chain.chainId);
    const hold = this.holdOf(chain.chainId);
    let safe = latest - SAFE_LAG;
    if (hold !== undefined && safe > hold) safe = hold;
    safe = max(heads.safe, max(0n, safe));
    const finalized = max(heads.finalized, max(0n, min(latest - FINALIZED_LAG, safe)));
    Object.assign(heads, { latest, safe, finalized });
    this.supernode?.setSupernodeHeads(chain.chainId, safe, finalized);
    await setSafe(chain, safe);
    await setFinalized(chain, finalized);
  }
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);
