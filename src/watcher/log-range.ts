/** After a refusal, how many ranges are read at the size that worked before a larger one is tried again. */
export const RANGES_BEFORE_GROWING_AGAIN = 20;

/**
 * How many blocks the watcher asks eth_getLogs for at a time: at most `maxBlocks`, halved while the node refuses a
 * range (a result or size cap on a dense range, a timeout), doubled back after each range read, but not past half
 * the refused size for the next RANGES_BEFORE_GROWING_AGAIN ranges (so a steady cap costs one refusal in that many
 * reads, not every other one). Failures a smaller range cannot help (a node down, 5xx, 429) are not refusals and
 * leave the size alone.
 */
export class LogRangeSize {
  private current: number;
  private lastRefusal?: { blocks: number; rangesSince: number };

  /** `onChange` hears the size at the start and after every refusal or read (the watcher's log range gauge). */
  constructor(
    readonly maxBlocks: number,
    private readonly onChange: (blocks: number) => void = () => {},
  ) {
    this.current = maxBlocks;
    onChange(maxBlocks);
  }

  /** Most blocks the next range may span. */
  get blocks(): number {
    return this.current;
  }

  /**
   * The node refused a range of `blocks` blocks: the next ranges are half as large as it. Returns false, changing
   * nothing, when that range was a single block: there is no smaller range to try.
   */
  refused(blocks: number): boolean {
    if (blocks <= 1) return false;
    this.lastRefusal = { blocks, rangesSince: 0 };
    this.set(Math.max(1, Math.floor(blocks / 2)));
    return true;
  }

  /** A range was read: the next may be twice as large, up to the ceiling. */
  read(): void {
    if (this.lastRefusal && ++this.lastRefusal.rangesSince > RANGES_BEFORE_GROWING_AGAIN) this.lastRefusal = undefined;
    const ceiling = this.lastRefusal ? Math.max(1, Math.floor(this.lastRefusal.blocks / 2)) : this.maxBlocks;
    this.set(Math.min(this.maxBlocks, ceiling, this.current * 2));
  }

  private set(blocks: number): void {
    this.current = blocks;
    this.onChange(blocks);
  }
}
