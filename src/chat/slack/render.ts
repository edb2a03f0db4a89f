import type { KnownBlock } from '@slack/types';
import { ALERT_BUTTON_LABELS, ALERT_BUTTONS, FAILSAFE_BUTTON, FAILSAFE_BUTTON_LABEL, type RootButton } from '../../../commands/handlers.js';
import type { AlertView } from '../../alerts/chat-port.js';
import { type Alert, DEPLOYMENT_WIDE, stateLine } from '../../alerts/model.js';
import { buttonTarget } from '../alert-button.js';
import { truncate } from '../text.js';

/** The action id of an alert button on Slack (its value is the button target, src/chat/alert-button.ts); the action handler reads both back. */
export const slackActionId = (button: RootButton) => `xmsg_${button}`;

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
    `*Chain*\n${a.chainId === DEPLOYMENT_WIDE ? 'all' : a.chainId}${a.sourceChainIds.length ? ` (sources: ${a.sourceChainIds.join(', ')})` : ''}`,
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
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(escapeSlack(a.detail), 2900) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(`*Runbook:* ${escapeSlack(view.runbook)}`, 2900) }] });
  if (a.state !== 'resolved') {
    blocks.push({
      type: 'actions',
      block_id: `xmsg_actions_${a.id}`,
      elements: ALERT_BUTTONS.map((button) => ({
        type: 'button',
        action_id: slackActionId(button),
        text: { type: 'plain_text', text: ALERT_BUTTON_LABELS[button] },
        value: buttonTarget(a.id, view.deployment),
        ...(button === 'ack' ? { style: 'primary' as const } : button === 'escalate' ? { style: 'danger' as const } : {}),
      })),
    });
    if (view.failsafe) {
      // A vote, not the switch: a second on-call member must confirm (src/alerts/failsafe.ts); Slack asks first.
      const actions = blocks.at(-1) as Extract<KnownBlock, { type: 'actions' }>;
      actions.elements.push({
        type: 'button',
        action_id: slackActionId(FAILSAFE_BUTTON),
        text: { type: 'plain_text', text: FAILSAFE_BUTTON_LABEL },
        value: buttonTarget(a.id, view.deployment),
        style: 'danger',
        confirm: {
          title: { type: 'plain_text', text: 'Enable the interop failsafe?' },
          text: {
            type: 'plain_text',
            text: 'op-interop-filter will refuse every executing message of the cluster. A second on-call member must confirm your request.',
          },
          confirm: { type: 'plain_text', text: 'Request it' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      });
    }
  }
  const icon = SEVERITY_ICON[a.severity];
  return { text: `${mentionText ? `${mentionText} ` : ''}${icon} ${escapeSlack(title)} (${escapeSlack(stateLine(a))})`, blocks };
}
