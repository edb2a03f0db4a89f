import { describe, expect, it } from 'vitest';
import { LogRangeSize, RANGES_BEFORE_GROWING_AGAIN } from './log-range.js';

/** A log range size whose every change is recorded, as the xmsg_log_range_blocks gauge sees it. */
function tracked(maxBlocks: number) {
  const gauge: number[] = [];
  const range = new LogRangeSize(maxBlocks, (blocks) => gauge.push(blocks));
  const readTimes = (n: number) => {
    const sizes: number[] = [];
    for (let i = 0; i < n; i++) {
      sizes.push(range.blocks);
      range.read();
    }
    return sizes;
  };
  return { range, gauge, readTimes };
}

describe('LogRangeSize', () => {
  it('starts at the configured maximum, and stays there while every range is read', () => {
    const { range, gauge, readTimes } = tracked(1000);
    expect(range.blocks).toBe(1000);
    expect(gauge).toEqual([1000]);
    expect(readTimes(5)).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('halves the refused range, again on each further refusal, down to one block', () => {
    const { range, gauge } = tracked(16);
    expect(range.refused(16)).toBe(true);
    expect(range.blocks).toBe(8);
    expect(range.refused(8)).toBe(true);
    expect(range.blocks).toBe(4);
    range.refused(3);
    expect(range.blocks).toBe(1);
    expect(gauge).toEqual([16, 8, 4, 1]);
  });

  it('halves the size of the range that was refused, not the size allowed (a short range near the head)', () => {
    const { range } = tracked(1000);
    range.refused(10);
    expect(range.blocks).toBe(5);
  });

  it('has nothing smaller to offer when a single block is refused', () => {
    const { range, gauge } = tracked(16);
    range.refused(2);
    expect(range.blocks).toBe(1);
    expect(range.refused(1)).toBe(false);
    expect(range.blocks).toBe(1);
    expect(gauge).toEqual([16, 1]);
  });

  it(`holds half the refused size while ${RANGES_BEFORE_GROWING_AGAIN} more ranges are read, then doubles back to the maximum`, () => {
    const { range, readTimes } = tracked(16);
    range.refused(16);
    // The range of 8 that follows the refusal, then the 20 ranges read at the size that worked.
    expect(readTimes(RANGES_BEFORE_GROWING_AGAIN + 1)).toEqual(Array(RANGES_BEFORE_GROWING_AGAIN + 1).fill(8));
    expect(readTimes(3)).toEqual([16, 16, 16]);
  });

  it('doubles back one read at a time, not in one jump', () => {
    const { range, readTimes } = tracked(64);
    range.refused(64);
    range.refused(32);
    range.refused(16);
    range.refused(8);
    expect(range.blocks).toBe(4);
    readTimes(RANGES_BEFORE_GROWING_AGAIN + 1);
    expect(readTimes(6)).toEqual([8, 16, 32, 64, 64, 64]);
  });

  it('settles on the size a node with a steady cap accepts: one refusal per hold, not one every other read', () => {
    // A node that refuses more than 5 blocks.
    const { range } = tracked(16);
    let refusals = 0;
    let reads = 0;
    for (let step = 0; step < 200; step++) {
      if (range.blocks > 5) {
        refusals++;
        range.refused(range.blocks);
      } else {
        reads++;
        range.read();
      }
    }
    expect(range.blocks).toBeLessThanOrEqual(5);
    // 16 -> 8 -> 4, then each time the hold ends, 8 is tried once more.
    expect(refusals).toBeLessThanOrEqual(2 + Math.ceil(reads / RANGES_BEFORE_GROWING_AGAIN));
    expect(reads).toBeGreaterThan(180);
  });

  it('starts a new hold from the latest refusal', () => {
    const { range, readTimes } = tracked(16);
    range.refused(16);
    readTimes(10);
    range.refused(8);
    expect(readTimes(RANGES_BEFORE_GROWING_AGAIN + 1)).toEqual(Array(RANGES_BEFORE_GROWING_AGAIN + 1).fill(4));
    expect(range.blocks).toBe(8);
  });

  it('never grows past the configured maximum', () => {
    const { range, readTimes } = tracked(5);
    range.refused(5);
    expect(range.blocks).toBe(2);
    readTimes(RANGES_BEFORE_GROWING_AGAIN + 1);
    expect(readTimes(3)).toEqual([4, 5, 5]);
  });
});
