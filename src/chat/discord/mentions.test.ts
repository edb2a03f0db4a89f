import { describe, expect, it } from 'vitest';
import { roleMentions } from './mentions.js';

const ONCALL = '1300000000000000001';
const ESCALATION = '1300000000000000003';

describe('roleMentions', () => {
  it('pages the on-call or the escalation role, and allows exactly the roles it names', () => {
    const roles = { oncallRoleId: ONCALL, escalationRoleId: ESCALATION };
    expect(roleMentions('oncall', roles)).toEqual({ content: `<@&${ONCALL}>`, allowed_mentions: { parse: [], roles: [ONCALL] } });
    expect(roleMentions(['escalation'], roles)).toEqual({
      content: `<@&${ESCALATION}>`,
      allowed_mentions: { parse: [], roles: [ESCALATION] },
    });
    expect(roleMentions(['oncall', 'escalation'], roles)).toEqual({
      content: `<@&${ONCALL}> <@&${ESCALATION}>`,
      allowed_mentions: { parse: [], roles: [ONCALL, ESCALATION] },
    });
  });

  it('pages the on-call role for escalation when no escalation role is set, once', () => {
    const roles = { oncallRoleId: ONCALL };
    expect(roleMentions('escalation', roles)).toEqual({ content: `<@&${ONCALL}>`, allowed_mentions: { parse: [], roles: [ONCALL] } });
    expect(roleMentions(['oncall', 'escalation'], roles)).toEqual({
      content: `<@&${ONCALL}>`,
      allowed_mentions: { parse: [], roles: [ONCALL] },
    });
  });

  it('pings nobody when asked to page nobody, or when no role is set', () => {
    expect(roleMentions(undefined, { oncallRoleId: ONCALL })).toEqual({ allowed_mentions: { parse: [] } });
    expect(roleMentions(['oncall', 'escalation'], {})).toEqual({ allowed_mentions: { parse: [] } });
  });
});
