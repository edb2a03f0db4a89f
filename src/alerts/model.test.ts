import { describe, expect, it } from 'vitest';
import { alertFixture } from '../../test/fixtures/alerts.js';
import { ALERT_KINDS, type Alert, isAlertKind, KINDS, stateLine } from './model.js';

const alert = (o: Partial<Alert>): Alert =>
  alertFixture({ id: 'XM-1', sample: [], sourceChainIds: [], createdAt: 0, lastAt: 0, detail: '', ...o });

describe('stateLine', () => {
  it('names the state, and who acknowledged or resolved the alert', () => {
    expect(stateLine(alert({}))).toBe('open');
    expect(stateLine(alert({ state: 'acknowledged', ackedBy: 'alice (slack:U1)' }))).toBe('acknowledged by alice (slack:U1)');
    expect(stateLine(alert({ state: 'resolved', ackedBy: 'alice', resolvedBy: 'bob (discord:42)' }))).toBe('resolved by bob (discord:42)');
  });

  it('adds the silence and the escalation level when there are any', () => {
    expect(stateLine(alert({ silenceId: 'S-3' }))).toBe('open, silenced (S-3)');
    expect(stateLine(alert({ escalationLevel: 2 }))).toBe('open, escalation level 2');
    expect(stateLine(alert({ state: 'acknowledged', ackedBy: 'alice', silenceId: 'S-3', escalationLevel: 1 }))).toBe(
      'acknowledged by alice, silenced (S-3), escalation level 1',
    );
  });
});

describe('alert kinds', () => {
  it('knows exactly the kinds of the operator contract', () => {
    expect(Object.keys(KINDS).sort()).toEqual([...ALERT_KINDS].sort());
    for (const kind of ALERT_KINDS) expect(isAlertKind(kind)).toBe(true);
    expect(isAlertKind('Invalid_Message')).toBe(false);
    expect(isAlertKind('replaced')).toBe(false);
  });

  it('pages at once only for a consensus bug and a state loss; invalid messages and flips are critical, the rest warnings', () => {
    expect(ALERT_KINDS.filter((k) => KINDS[k].pageAtOnce)).toEqual(['cross_safety_violation', 'state_lost']);
    expect(ALERT_KINDS.filter((k) => KINDS[k].severity === 'critical')).toEqual([
      'invalid_message',
      'access_list_mismatch',
      'cross_safety_violation',
      'status_flip',
      'state_lost',
    ]);
  });

  it('names the chain in every title but the deployment-wide one, and gives every kind a runbook', () => {
    for (const kind of ALERT_KINDS) {
      if (kind !== 'state_lost') expect(KINDS[kind].title(902)).toContain('902');
      expect(KINDS[kind].runbook.length).toBeGreaterThan(40);
    }
  });
});
