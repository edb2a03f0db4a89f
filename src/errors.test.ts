import { describe, expect, it } from 'vitest';
import { firstLine } from './errors.js';

describe('firstLine', () => {
  it("keeps an error message's first line", () => {
    expect(firstLine(new Error('HTTP request failed.\n\nURL: http://node\nRequest body: {}'))).toBe('HTTP request failed.');
  });

  it('prints anything else thrown', () => {
    expect(firstLine('plain string')).toBe('plain string');
    expect(firstLine(42)).toBe('42');
  });
});
