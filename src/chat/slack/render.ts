import type { KnownBlock } from '@slack/types';
import { type Alert, stateLine } from '../../alerts/model.js';
import { truncate } from '../text.js';
import type { AlertView } from '../types.js';

/** The buttons on every root message; the value is the alert id. Shared with the action handler. */
export const SLACK_ACTIONS = {
  xmsg_ack: 'Acknowledge',
  xmsg_escalate: 'Escalate',
  xmsg_silence_1h: 'Silence 1h',
  xmsg_resolve: 'Resolve',
} as const;
export type SlackActionId = keyof typeof SLACK_ACTIONS;

/** Slack mrkdwn treats &, < and > as control characters; everything from chains or users is escaped. */
export const escapeSlack = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const SEVERITY_ICON: Record<Alert['severity'], string> = { critical: ':rotating_light:', warning: ':warning:' };

/** Fallback text (notifications, screen readers) and the Block Kit body of an alert's root message. */
export function renderRoot(view: AlertView, mentionText = ''): { text: string; blocks: KnownBlock[] } {
  const a = view.alert;
  const title = `${a.id} ${a.severity.toUpperCase()}: ${a.title}`;
  const fields = [
    `*Severity*\n${a.severity}`,
    `*Kind*\n${a.kind}`,
    `*Chain*\n${a.chainId}${a.sourceChainIds.length ? ` (sources: ${a.sourceChainIds.join(', ')})` : ''}`,
    `*Occurrences*\n${a.count}`,
    `*State*\n${escapeSlack(stateLine(a))}`,
    `*Opened*\n<!date^${Math.floor(a.createdAt / 1000)}^{date_short_pretty} {time_secs}|${new Date(a.createdAt).toISOString()}>`,
  ];
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`${a.state === 'resolved' ? '✅' : a.severity === 'critical' ? '🚨' : '⚠️'} ${title}`, 150),
      },
    },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  for (const m of a.sample.slice(0, 3)) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          [
            `*Block* ${m.blockNumber} \`${m.blockHash}\``,
            `*Tx* \`${m.txHash}\` log ${m.logIndex}`,
            `*msgHash* \`${m.msgHash}\``,
            `*Identifier* origin \`${m.identifier.origin}\`, chain ${m.identifier.chainId}, block ${m.identifier.blockNumber}, log ${m.identifier.logIndex}, timestamp ${m.identifier.timestamp}`,
            `*Status* ${m.status}: ${escapeSlack(m.reason)}`,
          ].join('\n'),
          2900,
        ),
      },
    });
  }
  if (a.count > a.sample.length && a.sample.length) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${a.count - a.sample.length} more. Latest: ${escapeSlack(truncate(a.detail, 500))}` }],
    });
  } else if (!a.sample.length) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeSlack(truncate(a.detail, 2900)) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(`*Runbook:* ${escapeSlack(view.runbook)}`, 2900) }] });
  if (a.state !== 'resolved') {
    blocks.push({
      type: 'actions',
      block_id: `xmsg_actions_${a.id}`,
      elements: (Object.entries(SLACK_ACTIONS) as Array<[SlackActionId, string]>).map(([action_id, label]) => ({
        type: 'button',
        action_id,
        text: { type: 'plain_text', text: label },
        value: a.id,
        ...(action_id === 'xmsg_ack' ? { style: 'primary' as const } : action_id === 'xmsg_escalate' ? { style: 'danger' as const } : {}),
      })),
    });
  }
  const icon = SEVERITY_ICON[a.severity];
  return { text: `${mentionText ? `${mentionText} ` : ''}${icon} ${escapeSlack(title)} (${escapeSlack(stateLine(a))})`, blocks };
}
