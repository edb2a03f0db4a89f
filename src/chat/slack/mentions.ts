import { type Mention, mentionTargets } from '../../alerts/chat-port.js';

/** The user groups escalation pages on Slack. */
export interface SlackMentionGroups {
  /** SLACK_ONCALL_GROUP_ID */
  oncallGroupId?: string;
  /** SLACK_ESCALATION_GROUP_ID; the on-call group stands in when it is not set. */
  escalationGroupId?: string;
}

/** The user group mentions (`<!subteam^ID>`) that page `m`, space-separated; '' when it pages nobody. */
export function groupMentions(m: Mention | undefined, groups: SlackMentionGroups): string {
  const groupOf = (t: 'oncall' | 'escalation') =>
    t === 'escalation' ? (groups.escalationGroupId ?? groups.oncallGroupId) : groups.oncallGroupId;
  const ids = [...new Set(mentionTargets(m).map(groupOf))].filter((id): id is string => id !== undefined);
  return ids.map((id) => `<!subteam^${id}>`).join(' ');
}
