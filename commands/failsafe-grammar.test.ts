import { describe, expect, it } from 'vitest';
import { commandLine, parseCommand } from './grammar.js';

describe('/xmsg failsafe', () => {
  it('reads on with an optional alert and a reason, off with a reason, and status', () => {
    expect(parseCommand('failsafe on XM-7 invalid message is cross-safe')).toEqual({
      ok: true,
      command: { name: 'failsafe', action: 'on', alertId: 'XM-7', reason: 'invalid message is cross-safe' },
    });
    expect(parseCommand('failsafe ON drill')).toEqual({ ok: true, command: { name: 'failsafe', action: 'on', reason: 'drill' } });
    expect(parseCommand('failsafe off fixed')).toEqual({ ok: true, command: { name: 'failsafe', action: 'off', reason: 'fixed' } });
    expect(parseCommand('failsafe status')).toEqual({ ok: true, command: { name: 'failsafe', action: 'status' } });
  });

  it('wants a reason for on and off, no alert for off, and nothing after status', () => {
    for (const [line, error] of [
      ['failsafe', /missing on, off or status/],
      ['failsafe pause now', /"pause" is not on, off or status/],
      ['failsafe on XM-7', /missing the reason/],
      ['failsafe off', /missing the reason/],
      ['failsafe off XM-7 fixed', /names no alert/],
      ['failsafe status now', /takes no arguments/],
      [`failsafe on ${'x'.repeat(301)}`, /longer than 300/],
    ] as const) {
      const parsed = parseCommand(line);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(error);
    }
  });

  it('makes the same line of Discord options', () => {
    expect(commandLine('failsafe', { action: 'on', alert: 'XM-3', reason: 'stop it' })).toBe('failsafe on XM-3 stop it');
    expect(commandLine('failsafe', { action: 'off', reason: 'fixed' })).toBe('failsafe off fixed');
  });
});
