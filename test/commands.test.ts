import { describe, expect, it } from 'vitest';
import { parseCommand, parseDuration } from '../commands/grammar.js';

const ok = (input: string) => {
  const r = parseCommand(input);
  if (!r.ok) throw new Error(`expected "${input}" to parse: ${r.error}`);
  return r.command;
};
const err = (input: string) => {
  const r = parseCommand(input);
  if (r.ok) throw new Error(`expected "${input}" to be refused`);
  return r;
};

describe('/xmsg grammar', () => {
  it('parses every sub-command', () => {
    expect(ok('')).toEqual({ name: 'help' });
    expect(ok('help')).toEqual({ name: 'help' });
    expect(ok('status xm-42')).toEqual({ name: 'status', target: { alertId: 'XM-42' } });
    expect(ok(`status 0x${'AB'.repeat(32)}`)).toEqual({ name: 'status', target: { hash: `0x${'ab'.repeat(32)}` } });
    expect(ok('list')).toEqual({ name: 'list', filter: 'open' });
    expect(ok('LIST Acked')).toEqual({ name: 'list', filter: 'acked' });
    expect(ok('ack XM-1')).toEqual({ name: 'ack', alertId: 'XM-1' });
    expect(ok('  escalate   XM-7 ')).toEqual({ name: 'escalate', alertId: 'XM-7' });
    expect(ok('resolve XM-3')).toEqual({ name: 'resolve', alertId: 'XM-3' });
    expect(ok('silence 902 2h batcher maintenance')).toEqual({
      name: 'silence',
      matcher: 'chain',
      value: '902',
      durationMs: 7_200_000,
      reason: 'batcher maintenance',
    });
    expect(ok('silence 0x00000000000000000000000000000000000E4170 30m')).toMatchObject({
      matcher: 'origin',
      value: '0x00000000000000000000000000000000000e4170',
    });
    expect(ok('silence unpromoted 1h30m')).toMatchObject({ matcher: 'kind', value: 'unpromoted', durationMs: 5_400_000 });
    expect(ok('unsilence s-4')).toEqual({ name: 'unsilence', silenceId: 'S-4' });
    expect(ok('health')).toEqual({ name: 'health' });
  });

  it('refuses bad input with a reason and the usage', () => {
    expect(err('frobnicate')).toMatchObject({ error: 'unknown sub-command "frobnicate"' });
    expect(err('frobnicate').usage).toContain('/xmsg silence <chain-id | origin | kind> <duration> [reason]');
    expect(err('ack')).toMatchObject({ error: 'missing the alert id', usage: '/xmsg ack <XM-id>' });
    expect(err('ack 42')).toMatchObject({ error: '"42" is not an alert id like XM-42' });
    expect(err('ack XM-1 XM-2')).toMatchObject({ error: 'too many arguments (2, at most 1)' });
    expect(err('status 0x1234')).toMatchObject({ error: expect.stringContaining('neither an alert id') });
    expect(err('list sometimes')).toMatchObject({ error: 'unknown filter "sometimes"' });
    expect(err('silence 902')).toMatchObject({ error: 'needs what to silence and for how long' });
    expect(err('silence 902 forever')).toMatchObject({ error: '"forever" is not a duration like 30m, 2h or 1d' });
    expect(err('silence 902 0m')).toMatchObject({ error: expect.stringContaining('is not a duration') });
    expect(err('silence 902 31d')).toMatchObject({ error: 'a silence lasts at most 30 days' });
    expect(err('silence everything 1h')).toMatchObject({ error: expect.stringContaining('is not a chain id') });
    expect(err('health now')).toMatchObject({ error: 'too many arguments (1, at most 0)' });
  });

  it('never echoes more than a short piece of a long argument', () => {
    const r = err(`ack ${'X'.repeat(10_000)}`);
    expect(r.error.length).toBeLessThan(120);
  });

  it('reads durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('1h-5m')).toBeUndefined();
    expect(parseDuration('h')).toBeUndefined();
  });
});
