import { describe, expect, it } from 'vitest';
import { groupMentions } from './mentions.js';

describe('groupMentions', () => {
  it('pages the on-call group, the escalation group, or both', () => {
    const groups = { oncallGroupId: 'S0ONCALL', escalationGroupId: 'S0ESCALATE' };
    expect(groupMentions('oncall', groups)).toBe('<!subteam^S0ONCALL>');
    expect(groupMentions(['escalation'], groups)).toBe('<!subteam^S0ESCALATE>');
    expect(groupMentions(['oncall', 'escalation'], groups)).toBe('<!subteam^S0ONCALL> <!subteam^S0ESCALATE>');
  });

  it('pages the on-call group for escalation when no escalation group is set, once', () => {
    expect(groupMentions('escalation', { oncallGroupId: 'S0ONCALL' })).toBe('<!subteam^S0ONCALL>');
    expect(groupMentions(['oncall', 'escalation'], { oncallGroupId: 'S0ONCALL' })).toBe('<!subteam^S0ONCALL>');
  });

  it('mentions nobody when asked to page nobody, or when no group is set', () => {
    expect(groupMentions(undefined, { oncallGroupId: 'S0ONCALL' })).toBe('');
    expect(groupMentions(['oncall'], {})).toBe('');
  });
});
