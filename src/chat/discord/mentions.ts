import type { RESTPostAPIChannelMessageJSONBody } from 'discord.js';
import { type Mention, mentionTargets } from '../../alerts/chat-port.js';

/** The roles escalation pages on Discord. */
export interface DiscordMentionRoles {
  /** DISCORD_ONCALL_ROLE_ID */
  oncallRoleId?: string;
  /** DISCORD_ESCALATION_ROLE_ID; the on-call role stands in when it is not set, as Slack's on-call group does. */
  escalationRoleId?: string;
}

/**
 * What a post that pages `m` carries: the roles' mentions as content, and `allowed_mentions` naming exactly those
 * roles, so that nothing else a post contains (a chain's data, a user's text) can ping anyone, @everyone included.
 */
export function roleMentions(
  m: Mention | undefined,
  roles: DiscordMentionRoles,
): Pick<RESTPostAPIChannelMessageJSONBody, 'content' | 'allowed_mentions'> {
  const roleOf = (t: 'oncall' | 'escalation') => (t === 'escalation' ? (roles.escalationRoleId ?? roles.oncallRoleId) : roles.oncallRoleId);
  const ids = [...new Set(mentionTargets(m).map(roleOf))].filter((id): id is string => id !== undefined);
  if (!ids.length) return { allowed_mentions: { parse: [] } };
  return { content: ids.map((id) => `<@&${id}>`).join(' '), allowed_mentions: { parse: [], roles: ids } };
}
