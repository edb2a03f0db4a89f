import { describe, expect, it } from 'vitest';
import { matchingSilence } from './silences.js';
import type { Silence } from './store.js';

const silence = (id: string, matcher: Silence['matcher'], value: string): Silence => ({
  id,
  matcher,
  value,
  until: Date.now() + 3_600_000,
  by: 'alice (slack:U1)',
  reason: '',
  createdAt: Date.now(),
});
const ORIGIN = '0x00000000000000000000000000000000000E4170';

describe('matchingSilence', () => {
  it('mutes an alert of a silenced kind, whatever its chain', () => {
    const s = silence('S-1', 'kind', 'unpromoted');
    expect(matchingSilence([s], 'unpromoted', 902)).toBe(s);
    expect(matchingSilence([s], 'invalid_message', 902)).toBeUndefined();
  });

  it('mutes an alert on a silenced chain, or about a message from it', () => {
    const s = silence('S-1', 'chain', '901');
    expect(matchingSilence([s], 'chain_unhealthy', 901)).toBe(s);
    expect(matchingSilence([s], 'invalid_message', 902, 901)).toBe(s);
    expect(matchingSilence([s], 'invalid_message', 902, 903)).toBeUndefined();
    expect(matchingSilence([s], 'chain_unhealthy', 9010)).toBeUndefined();
  });

  it('mutes an alert about a message from a silenced origin, in any hex case', () => {
    const s = silence('S-1', 'origin', ORIGIN.toLowerCase());
    expect(matchingSilence([s], 'invalid_message', 902, 901, ORIGIN)).toBe(s);
    expect(matchingSilence([silence('S-2', 'origin', ORIGIN)], 'invalid_message', 902, 901, ORIGIN.toLowerCase())?.id).toBe('S-2');
    expect(matchingSilence([s], 'invalid_message', 902, 901, '0x000000000000000000000000000000000000dEaD')).toBeUndefined();
    // An alert about no message (a chain's health) has no origin.
    expect(matchingSilence([s], 'chain_unhealthy', 902)).toBeUndefined();
  });

  it("never mutes a new alert with another alert's silence", () => {
    expect(matchingSilence([silence('S-1', 'alert', 'XM-1')], 'invalid_message', 902, 901, ORIGIN)).toBeUndefined();
  });

  it('names the first matching silence', () => {
    const silences = [silence('S-1', 'chain', '903'), silence('S-2', 'kind', 'status_flip'), silence('S-3', 'chain', '902')];
    expect(matchingSilence(silences, 'status_flip', 902)?.id).toBe('S-2');
    expect(matchingSilence([], 'status_flip', 902)).toBeUndefined();
  });
});
