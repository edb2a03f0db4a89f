/**
 * Seeded randomness for the devnet's fault injection and the chaos tests: the same seed gives the same sequence on
 * every machine, so a failure can be replayed from its seed.
 */

/** mulberry32: small, fast, 32 bits of state; a function returning numbers in [0, 1), as Math.random does. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** mulberry32 with the draws a test needs: integers, ranges, picks and samples. */
export class Rng {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `k` distinct integers of [0, n), ascending. */
  sample(n: number, k: number): number[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(k, n)) chosen.add(this.int(n));
    return [...chosen].sort((a, b) => a - b);
  }
}
