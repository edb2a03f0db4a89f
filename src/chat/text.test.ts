import { describe, expect, it } from 'vitest';
import { truncate } from './text.js';

describe('truncate', () => {
  it('leaves text within the limit as it is', () => {
    expect(truncate('', 5)).toBe('');
    expect(truncate('abcde', 5)).toBe('abcde');
  });

  it('cuts longer text to exactly the limit, the last character marking the cut', () => {
    expect(truncate('abcdef', 5)).toBe('abcd…');
    expect(truncate('x'.repeat(10_000), 2000)).toHaveLength(2000);
    expect(truncate('x'.repeat(10_000), 2000).endsWith('x…')).toBe(true);
  });
});
