import { describe, expect, it } from 'vitest';
import { ALERT_KINDS } from '../src/alerts/model.js';
import { commandLine, parseCommand, parseDuration, parseIsoTime, parseStart, SUBCOMMANDS, usageOf } from './grammar.js';

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
const HASH = `0x${'ab'.repeat(32)}`;
const DAY_MS = 86_400_000;

describe('/xmsg grammar', () => {
  it('parses every sub-command', () => {
    expect(ok('')).toEqual({ name: 'help' });
    expect(ok('help')).toEqual({ name: 'help' });
    expect(ok('status xm-42')).toEqual({ name: 'status', target: { alertId: 'XM-42' } });
    expect(ok(`status 0x${'AB'.repeat(32)}`)).toEqual({ name: 'status', target: { hash: HASH } });
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

  it('reads sub-commands, ids, filters and kinds in any case, and any whitespace between words', () => {
    expect(ok('   ')).toEqual({ name: 'help' });
    expect(ok('HELP')).toEqual({ name: 'help' });
    expect(ok('Health')).toEqual({ name: 'health' });
    expect(ok('\tack\txm-9\n')).toEqual({ name: 'ack', alertId: 'XM-9' });
    expect(ok('list ALL')).toEqual({ name: 'list', filter: 'all' });
    expect(ok('list silenced')).toEqual({ name: 'list', filter: 'silenced' });
    expect(ok('silence Status_Flip 1H')).toMatchObject({ matcher: 'kind', value: 'status_flip', durationMs: 3_600_000 });
    expect(ok('silence 902 1h  two   words ')).toMatchObject({ reason: 'two words' });
  });

  it('takes a transaction hash like a msgHash: any 32-byte 0x hash', () => {
    expect(ok(`status ${HASH.toUpperCase().replace('0X', '0x')}`)).toEqual({ name: 'status', target: { hash: HASH } });
    expect(err(`status ${HASH.slice(0, -2)}`).error).toContain('neither an alert id');
    expect(err(`status ${HASH}00`).error).toContain('neither an alert id');
    expect(err(`status 0x${'zz'.repeat(32)}`).error).toContain('neither an alert id');
    expect(err(`status ${HASH} extra`).error).toBe('too many arguments (2, at most 1)');
  });

  it('takes alert ids of up to 12 digits', () => {
    expect(ok('ack XM-123456789012')).toEqual({ name: 'ack', alertId: 'XM-123456789012' });
    expect(err('ack XM-1234567890123').error).toBe('"XM-1234567890123" is not an alert id like XM-42');
    expect(err('ack XM-').error).toBe('"XM-" is not an alert id like XM-42');
  });

  it('reads each kind of silence target', () => {
    for (const kind of ALERT_KINDS) expect(ok(`silence ${kind} 1h`)).toMatchObject({ matcher: 'kind', value: kind });
    // Chain ids are numbers: leading zeros do not make another chain.
    expect(ok('silence 0902 1h')).toMatchObject({ matcher: 'chain', value: '902' });
    expect(ok(`silence ${'9'.repeat(20)} 1h`)).toMatchObject({ matcher: 'chain', value: '9'.repeat(20) });
    expect(err(`silence ${'9'.repeat(21)} 1h`).error).toContain('is not a chain id, a 0x origin address, an alert kind');
    // An origin is matched whatever its checksum.
    expect(ok('silence 0x00000000000000000000000000000000000e4170 1h')).toMatchObject({ matcher: 'origin' });
    expect(ok('silence 0xAbCdEf0000000000000000000000000000000000 1h')).toMatchObject({
      matcher: 'origin',
      value: '0xabcdef0000000000000000000000000000000000',
    });
    expect(err('silence 0x1234 1h').error).toBe(
      `"0x1234" is not a chain id, a 0x origin address, an alert kind (${ALERT_KINDS.join(', ')}) or an alert id like XM-42`,
    );
    // One alert, like its Silence button.
    expect(ok('silence xm-7 2h noisy')).toEqual({
      name: 'silence',
      matcher: 'alert',
      value: 'XM-7',
      durationMs: 7_200_000,
      reason: 'noisy',
    });
    expect(err('silence XM- 2h').error).toContain('is not a chain id');
  });

  it('reads every duration unit: seconds, minutes, hours and days', () => {
    expect(ok('silence 902 90s')).toMatchObject({ durationMs: 90_000 });
    expect(ok('silence 902 15m')).toMatchObject({ durationMs: 900_000 });
    expect(ok('silence 902 2h')).toMatchObject({ durationMs: 7_200_000 });
    expect(ok('silence 902 1d')).toMatchObject({ durationMs: DAY_MS });
    expect(ok('silence 902 1w')).toMatchObject({ durationMs: 7 * DAY_MS });
    expect(err('silence 902 90').error).toBe('"90" is not a duration like 90s, 15m, 2h or 1d');
    expect(err('silence 902 1y').error).toBe('"1y" is not a duration like 90s, 15m, 2h or 1d');
  });

  it('reads a maintenance window: at an ISO time, or after a delay', () => {
    expect(ok('silence 902 2h at 2030-06-01T14:00Z batcher upgrade')).toEqual({
      name: 'silence',
      matcher: 'chain',
      value: '902',
      durationMs: 7_200_000,
      start: { at: Date.UTC(2030, 5, 1, 14, 0) },
      reason: 'batcher upgrade',
    });
    expect(ok('silence 902 2h AT +30m')).toMatchObject({ start: { after: 1_800_000 }, reason: '' });
    expect(ok('silence 902 2h at +90s')).toMatchObject({ start: { after: 90_000 } });
    expect(ok('silence 902 2h at +1d')).toMatchObject({ start: { after: DAY_MS } });
    expect(ok('silence unpromoted 15m at 2030-06-01T16:00:30+02:00')).toMatchObject({ start: { at: Date.UTC(2030, 5, 1, 14, 0, 30) } });
    expect(ok('silence XM-7 1h at +2h')).toMatchObject({ matcher: 'alert', value: 'XM-7', start: { after: 7_200_000 } });
    // "at" anywhere but right after the duration is part of the reason.
    expect(ok('silence 902 2h deploy at noon')).toMatchObject({ reason: 'deploy at noon' });
    expect(ok('silence 902 2h')).not.toHaveProperty('start');
  });

  it('refuses a window start it cannot read, saying what it expects', () => {
    const usage = '/xmsg silence <chain-id | origin | kind | XM-id> <duration> [at <ISO time | +duration>] [reason]';
    expect(err('silence 902 2h at')).toEqual({
      ok: false,
      error: 'missing the time after "at": an ISO time like 2025-06-01T14:00Z, or +30m',
      usage,
    });
    expect(err('silence 902 2h at noon').error).toBe('"noon" is not a time like 2025-06-01T14:00Z, nor a delay like +30m');
    expect(err('silence 902 2h at 2030-06-01T14:00').error).toBe(
      '"2030-06-01T14:00" has no time zone: add Z for UTC or an offset, e.g. 2025-06-01T14:00Z',
    );
    expect(err('silence 902 2h at 2030-02-30T14:00Z').error).toContain('is not a time like');
    expect(err('silence 902 2h at +0m').error).toBe('"+0m" is not a delay like +30m or +2h');
    expect(err('silence 902 2h at +soon').error).toBe('"+soon" is not a delay like +30m or +2h');
    expect(err('silence 902 2h at +31d').error).toBe('a silence starts at most 30 days from now');
    expect(err(`silence 902 2h at ${'9'.repeat(5000)}`).error.length).toBeLessThan(120);
  });

  it('bounds silences to 30 days and their reason to 300 characters', () => {
    expect(ok('silence 902 30d')).toMatchObject({ durationMs: 30 * DAY_MS });
    expect(err('silence 902 30d1s').error).toBe('a silence lasts at most 30 days');
    expect(err('silence 902 5w').error).toBe('a silence lasts at most 30 days');
    expect(ok(`silence 902 1h ${'r'.repeat(300)}`)).toMatchObject({ reason: 'r'.repeat(300) });
    expect(err(`silence 902 1h ${'r'.repeat(301)}`).error).toBe('the reason is longer than 300 characters');
    expect(ok('silence 902 1h')).toMatchObject({ reason: '' });
  });

  it('refuses bad input with a reason and the usage', () => {
    expect(err('frobnicate')).toMatchObject({ error: 'unknown sub-command "frobnicate"' });
    expect(err('frobnicate').usage).toContain(
      '/xmsg silence <chain-id | origin | kind | XM-id> <duration> [at <ISO time | +duration>] [reason]',
    );
    expect(err('ack')).toMatchObject({ error: 'missing the alert id', usage: '/xmsg ack <XM-id>' });
    expect(err('ack 42')).toMatchObject({ error: '"42" is not an alert id like XM-42' });
    expect(err('ack XM-1 XM-2')).toMatchObject({ error: 'too many arguments (2, at most 1)' });
    expect(err('escalate')).toMatchObject({ error: 'missing the alert id', usage: '/xmsg escalate <XM-id>' });
    expect(err('resolve S-1')).toMatchObject({ error: '"S-1" is not an alert id like XM-42', usage: '/xmsg resolve <XM-id>' });
    expect(err('status')).toMatchObject({
      error: 'missing the XM-id, msgHash or txHash',
      usage: '/xmsg status <XM-id | msgHash | txHash>',
    });
    expect(err('status 0x1234')).toMatchObject({ error: expect.stringContaining('neither an alert id') });
    expect(err('list sometimes')).toMatchObject({ error: 'unknown filter "sometimes"', usage: '/xmsg list [open|acked|silenced|all]' });
    expect(err('list open acked')).toMatchObject({ error: 'too many arguments (2, at most 1)' });
    expect(err('silence')).toMatchObject({ error: 'needs what to silence and for how long' });
    expect(err('silence 902')).toMatchObject({ error: 'needs what to silence and for how long' });
    expect(err('silence 902 forever')).toMatchObject({ error: '"forever" is not a duration like 90s, 15m, 2h or 1d' });
    expect(err('silence 902 0m')).toMatchObject({ error: expect.stringContaining('is not a duration') });
    expect(err('silence 902 31d')).toMatchObject({ error: 'a silence lasts at most 30 days' });
    expect(err('silence everything 1h')).toMatchObject({ error: expect.stringContaining('is not a chain id') });
    expect(err('unsilence')).toMatchObject({ error: 'missing the silence id', usage: '/xmsg unsilence <S-id>' });
    expect(err('unsilence XM-4')).toMatchObject({ error: '"XM-4" is not a silence id like S-3' });
    expect(err('unsilence S-4 S-5')).toMatchObject({ error: 'too many arguments (2, at most 1)' });
    expect(err('health now')).toMatchObject({ error: 'too many arguments (1, at most 0)' });
    expect(err('help me please')).toMatchObject({ error: 'too many arguments (2, at most 0)', usage: '/xmsg help' });
  });

  it('answers an unknown sub-command with the usage of every sub-command', () => {
    expect(err('frobnicate').usage.split('\n')).toEqual(SUBCOMMANDS.map((s) => usageOf(s.name)));
  });

  it('never echoes more than a short piece of a long argument', () => {
    const r = err(`ack ${'X'.repeat(10_000)}`);
    expect(r.error.length).toBeLessThan(120);
    expect(r.error).toBe(`"${'X'.repeat(40)}…" is not an alert id like XM-42`);
    expect(err('y'.repeat(10_000)).error).toBe(`unknown sub-command "${'y'.repeat(40)}…"`);
    expect(err(`silence 902 ${'9'.repeat(5000)}x`).error.length).toBeLessThan(120);
    expect(err(`list ${'z'.repeat(41)}`).error).toBe(`unknown filter "${'z'.repeat(40)}…"`);
  });
});

describe('parseDuration', () => {
  it('reads a sum of amounts in s, m, h, d and w, in any case', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(DAY_MS);
    expect(parseDuration('1w')).toBe(7 * DAY_MS);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1D2H')).toBe(DAY_MS + 7_200_000);
    expect(parseDuration('0m')).toBe(0);
  });

  it('is undefined for anything else', () => {
    for (const text of ['', 'h', '1', '1h-5m', '1.5h', ' 1h', '1h ', '1y', 'one hour', '-1h']) expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseIsoTime and parseStart', () => {
  it('reads ISO-8601 times with a zone, to the millisecond', () => {
    expect(parseIsoTime('2030-06-01T14:00Z')).toBe(Date.UTC(2030, 5, 1, 14, 0));
    expect(parseIsoTime('2030-06-01t14:00:05z')).toBe(Date.UTC(2030, 5, 1, 14, 0, 5));
    expect(parseIsoTime('2030-06-01T14:00:05.5Z')).toBe(Date.UTC(2030, 5, 1, 14, 0, 5, 500));
    expect(parseIsoTime('2030-06-01T14:00:05.123-0130')).toBe(Date.UTC(2030, 5, 1, 15, 30, 5, 123));
    expect(parseIsoTime('2028-02-29T00:00Z')).toBe(Date.UTC(2028, 1, 29));
    expect(parseIsoTime('2030-06-01T14:00')).toBe('no zone');
  });

  it('refuses times that do not exist and anything else', () => {
    for (const text of [
      '2030-02-29T00:00Z',
      '2030-04-31T00:00Z',
      '2030-13-01T00:00Z',
      '2030-06-01T24:00Z',
      '2030-06-01T14:60Z',
      '2030-06-01T14:00+25:00',
      '2030-06-01',
      '14:00Z',
      '2030-06-01 14:00Z',
      '',
    ])
      expect(parseIsoTime(text), text).toBeUndefined();
  });

  it('reads +duration as a delay', () => {
    expect(parseStart('+15m')).toEqual({ after: 900_000 });
    expect(parseStart('2030-06-01T14:00Z')).toEqual({ at: Date.UTC(2030, 5, 1, 14, 0) });
    expect(parseStart('+')).toBe('"+" is not a delay like +30m or +2h');
  });
});

describe('commandLine', () => {
  it('joins the options of a structured command in the order the grammar reads them', () => {
    expect(commandLine('silence', { reason: 'planned work', duration: ' 2h ', target: '902' })).toBe('silence 902 2h planned work');
    expect(commandLine('silence', { target: '902', duration: '2h', reason: '  ' })).toBe('silence 902 2h');
    expect(commandLine('list', {})).toBe('list');
    expect(commandLine('ack', { id: 'XM-1', unrelated: 'x' })).toBe('ack XM-1');
    // A window's start gets its keyword, once.
    expect(commandLine('silence', { target: '902', duration: '2h', at: '+30m', reason: 'upgrade' })).toBe('silence 902 2h at +30m upgrade');
    expect(commandLine('silence', { target: '902', duration: '2h', at: 'at +30m' })).toBe('silence 902 2h at +30m');
    expect(parseCommand(commandLine('silence', { target: '902', duration: '2h', reason: 'planned work' }))).toEqual({
      ok: true,
      command: { name: 'silence', matcher: 'chain', value: '902', durationMs: 7_200_000, reason: 'planned work' },
    });
  });

  it('passes an unknown sub-command through, for the parser to refuse', () => {
    expect(commandLine('frobnicate', { target: 'x' })).toBe('frobnicate');
  });
});
