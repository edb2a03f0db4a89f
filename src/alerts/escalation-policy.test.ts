import { describe, expect, it } from 'vitest';
import {
  builtInPolicy,
  describeTargets,
  type EscalationPolicy,
  nextStep,
  pagesAtOnce,
  parseEscalationPolicy,
  stepTo,
} from './escalation-policy.js';
import { ALERT_KINDS, KINDS } from './model.js';

const TIMINGS = { escalateAfterS: 300, escalationRepeatS: 900 };

function policyOf(raw: unknown): EscalationPolicy {
  const r = parseEscalationPolicy(raw, TIMINGS);
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.policy;
}
function problemsOf(raw: unknown): string[] {
  const r = parseEscalationPolicy(raw, TIMINGS);
  return r.ok ? [] : r.problems;
}
/** The first `n` steps of a ladder, from an alert not escalated yet. */
const steps = (ladder: EscalationPolicy[keyof EscalationPolicy], n: number) => Array.from({ length: n }, (_, i) => nextStep(ladder, i));

describe('the built-in ladder (no policy file)', () => {
  const policy = builtInPolicy(TIMINGS);

  it('pages on-call after XMSG_ESCALATE_AFTER_S, on-call again, then the escalation group every XMSG_ESCALATION_REPEAT_S', () => {
    expect(steps(policy.invalid_message, 5)).toEqual([
      { level: 1, delayS: 300, targets: ['oncall'] },
      { level: 2, delayS: 900, targets: ['oncall'] },
      { level: 3, delayS: 900, targets: ['escalation'] },
      { level: 4, delayS: 900, targets: ['escalation'] },
      { level: 5, delayS: 900, targets: ['escalation'] },
    ]);
    expect(pagesAtOnce(policy.invalid_message)).toBe(false);
  });

  it('pages on-call at once for the kinds that page at once (a cross-safety violation), then climbs as the others do', () => {
    expect(steps(policy.cross_safety_violation, 3)).toEqual([
      { level: 1, delayS: 0, targets: ['oncall'] },
      { level: 2, delayS: 900, targets: ['oncall'] },
      { level: 3, delayS: 900, targets: ['escalation'] },
    ]);
    // The kinds that page at once (a consensus bug among them); the others wait XMSG_ESCALATE_AFTER_S.
    expect(ALERT_KINDS.filter((k) => pagesAtOnce(policy[k]))).toEqual(ALERT_KINDS.filter((k) => KINDS[k].pageAtOnce));
    expect(pagesAtOnce(policy.cross_safety_violation)).toBe(true);
  });

  it('is the policy of an empty file', () => {
    expect(policyOf({})).toEqual(policy);
  });
});

describe('a policy file', () => {
  it('sets a ladder per kind, else per severity, else its default, else the built-in one', () => {
    const policy = policyOf({
      default: { levels: [{ afterS: 60, targets: ['oncall'] }], repeatEveryS: 120 },
      severity: { warning: { levels: [{ afterS: 3600, targets: ['oncall'] }] } },
      kind: {
        cross_safety_violation: {
          levels: [
            { afterS: 0, targets: ['oncall', 'escalation'] },
            { afterS: 30, targets: ['escalation'] },
          ],
          repeatEveryS: 60,
        },
      },
    });
    expect(steps(policy.invalid_message, 3).map((s) => s.delayS)).toEqual([60, 120, 120]);
    // A level the file leaves without repeatEveryS repeats every XMSG_ESCALATION_REPEAT_S.
    expect(steps(policy.unpromoted, 2)).toEqual([
      { level: 1, delayS: 3600, targets: ['oncall'] },
      { level: 2, delayS: 900, targets: ['oncall'] },
    ]);
    expect(steps(policy.cross_safety_violation, 3)).toEqual([
      { level: 1, delayS: 0, targets: ['oncall', 'escalation'] },
      { level: 2, delayS: 30, targets: ['escalation'] },
      { level: 3, delayS: 60, targets: ['escalation'] },
    ]);
  });

  it('without a default, leaves the kinds it does not name on the built-in ladder', () => {
    const policy = policyOf({ kind: { unpromoted: { levels: [{ afterS: 10, targets: ['escalation'] }] } } });
    expect(policy.invalid_message).toEqual(builtInPolicy(TIMINGS).invalid_message);
    expect(policy.cross_safety_violation).toEqual(builtInPolicy(TIMINGS).cross_safety_violation);
    expect(stepTo(policy.unpromoted, 1)).toEqual({ level: 1, delayS: 10, targets: ['escalation'] });
  });

  it('names every problem on a line of its own, with where it is', () => {
    expect(
      problemsOf({
        defualt: {},
        severity: { info: { levels: [{ afterS: 1, targets: ['oncall'] }] } },
        kind: {
          unpromoted: { levels: [{ afterS: -1, targets: ['oncall', 'oncall'] }], repeatEveryS: 0 },
          status_flip: { levels: [] },
          invalid_message: { levels: [{ afterS: 5, targets: ['everyone'], after: 5 }] },
        },
      }),
    ).toEqual([
      'severity: Unrecognized key: "info"',
      'kind.unpromoted.levels[0].afterS: Too small: expected number to be >=0',
      'kind.unpromoted.levels[0].targets: names a target twice',
      'kind.unpromoted.repeatEveryS: Too small: expected number to be >0',
      'kind.status_flip.levels: Too small: expected array to have >=1 items',
      'kind.invalid_message.levels[0].targets[0]: Invalid option: expected one of "oncall"|"escalation"',
      'kind.invalid_message.levels[0]: Unrecognized key: "after"',
      '(file): Unrecognized key: "defualt"',
    ]);
    expect(problemsOf({ kind: { bogus_kind: { levels: [{ afterS: 1, targets: ['oncall'] }] } } })).toEqual([
      'kind: Unrecognized key: "bogus_kind"',
    ]);
    expect(problemsOf([1, 2])).toEqual(['(file): Invalid input: expected object, received array']);
  });
});

describe('describeTargets', () => {
  it('names the targets as a thread reply does', () => {
    expect(describeTargets(['oncall'])).toBe('on-call');
    expect(describeTargets(['escalation'])).toBe('escalation');
    expect(describeTargets(['oncall', 'escalation'])).toBe('on-call and escalation');
  });
});
