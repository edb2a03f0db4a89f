import { describe, expect, it } from 'vitest';
import { buttonTarget, parseButtonTarget } from './alert-button.js';

describe('alert button targets', () => {
  it('carry the alert and the deployment it was posted under, and read back', () => {
    expect(buttonTarget('XM-42', '3f9c0a1b2c4d')).toBe('XM-42|3f9c0a1b2c4d');
    expect(parseButtonTarget('XM-42|3f9c0a1b2c4d')).toEqual({ alertId: 'XM-42', deployment: '3f9c0a1b2c4d' });
  });

  it('read a button posted before buttons carried a deployment as the alert alone', () => {
    expect(buttonTarget('XM-42')).toBe('XM-42');
    expect(parseButtonTarget('XM-42')).toEqual({ alertId: 'XM-42' });
  });

  it('refuse anything else: no alert id, an empty or malformed deployment, more parts', () => {
    for (const s of [
      '',
      'XM-',
      'xm-4',
      'XM-4a',
      'S-4',
      'XM-1234567890123',
      'XM-4|',
      'XM-4|3F9C',
      'XM-4|3f 9c',
      'XM-4|a|b',
      '|3f9c',
      'XM-4|x'.padEnd(50, 'x'),
    ])
      expect(parseButtonTarget(s), s).toBeUndefined();
  });
});
