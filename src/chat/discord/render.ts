import { type APIActionRowComponent, type APIButtonComponent, type APIEmbed, ButtonStyle, ComponentType } from 'discord.js';
import {
  ALERT_BUTTON_LABELS,
  ALERT_BUTTONS,
  type AlertButton,
  FAILSAFE_BUTTON,
  FAILSAFE_BUTTON_LABEL,
  type RootButton,
} from '../../../commands/handlers.js';
import type { AlertView } from '../../alerts/chat-port.js';
import { type Alert, DEPLOYMENT_WIDE, stateLine } from '../../alerts/model.js';
import { type ButtonTarget, buttonTarget, parseButtonTarget } from '../alert-button.js';
import { truncate } from '../text.js';

const COLOR: Record<Alert['severity'] | 'resolved', number> = { critical: 0xd32f2f, warning: 0xf9a825, resolved: 0x2e7d32 };

const BUTTON_STYLE: Record<AlertButton, ButtonStyle> = {
  ack: ButtonStyle.Primary,
  escalate: ButtonStyle.Danger,
  silence_1h: ButtonStyle.Secondary,
  resolve: ButtonStyle.Success,
};

/**
 * Button custom ids carry the action, the alert and the deployment it was posted under: `xmsg|ack|XM-42|3f9c0a1b2c4d`
 * (at most 44 characters of Discord's 100); those posted before buttons carried a deployment are `xmsg|ack|XM-42`.
 */
export const buttonId = (button: RootButton, alertId: string, deployment?: string) => `xmsg|${button}|${buttonTarget(alertId, deployment)}`;
export function parseButtonId(customId: string): ({ button: string } & ButtonTarget) | undefined {
  const [tag, button, ...target] = customId.split('|');
  if (tag !== 'xmsg' || !button) return undefined;
  const parsed = parseButtonTarget(target.join('|'));
  return parsed && { button, ...parsed };
}

/** The root message of an alert: one embed with the same facts as the Slack root, and the four buttons. */
export function renderRoot(view: AlertView): { embeds: APIEmbed[]; components: APIActionRowComponent<APIButtonComponent>[] } {
  const a = view.alert;
  const fields: APIEmbed['fields'] = [
    { name: 'Severity', value: a.severity, inline: true },
    { name: 'Kind', value: a.kind, inline: true },
    {
      name: 'Chain',
      value: `${a.chainId === DEPLOYMENT_WIDE ? 'all' : a.chainId}${a.sourceChainIds.length ? ` (sources: ${a.sourceChainIds.join(', ')})` : ''}`,
      inline: true,
    },
    { name: 'Occurrences', value: String(a.count), inline: true },
    { name: 'State', value: stateLine(a), inline: true },
    { name: 'Opened', value: `<t:${Math.floor(a.createdAt / 1000)}:f>`, inline: true },
  ];
  for (const m of a.sample.slice(0, 3)) {
    fields.push({
      name: `Message in block ${m.blockNumber}`,
      value: truncate(
        [
          `block \`${m.blockHash}\``,
          `tx \`${m.txHash}\` log ${m.logIndex}`,
          `msgHash \`${m.msgHash}\``,
          `identifier: origin \`${m.identifier.origin}\`, chain ${m.identifier.chainId}, block ${m.identifier.blockNumber}, log ${m.identifier.logIndex}, timestamp ${m.identifier.timestamp}`,
          `status **${m.status}**: ${m.reason}`,
        ].join('\n'),
        1024,
      ),
    });
  }
  // As on Slack: "…and n more" only beside sampled messages; an alert with none (chain health) shows its detail.
  if (a.count > a.sample.length && a.sample.length)
    fields.push({ name: 'Latest', value: truncate(`…and ${a.count - a.sample.length} more. ${a.detail}`, 1024) });
  else if (!a.sample.length) fields.push({ name: 'Detail', value: truncate(a.detail || '-', 1024) });
  fields.push({ name: 'Runbook', value: truncate(view.runbook, 1024) });

  const embed: APIEmbed = {
    title: truncate(`${a.id} ${a.severity.toUpperCase()}: ${a.title}`, 256),
    color: a.state === 'resolved' ? COLOR.resolved : COLOR[a.severity],
    fields,
    timestamp: new Date(a.createdAt).toISOString(),
  };
  const components: APIActionRowComponent<APIButtonComponent>[] =
    a.state === 'resolved'
      ? []
      : [
          {
            type: ComponentType.ActionRow,
            components: ALERT_BUTTONS.map(
              (button) =>
                ({
                  type: ComponentType.Button,
                  style: BUTTON_STYLE[button],
                  label: ALERT_BUTTON_LABELS[button],
                  custom_id: buttonId(button, a.id, view.deployment),
                }) as APIButtonComponent,
            ),
          },
          // A vote, not the switch: a second on-call member must confirm (src/alerts/failsafe.ts).
          ...(view.failsafe
            ? [
                {
                  type: ComponentType.ActionRow,
                  components: [
                    {
                      type: ComponentType.Button,
                      style: ButtonStyle.Danger,
                      label: FAILSAFE_BUTTON_LABEL,
                      custom_id: buttonId(FAILSAFE_BUTTON, a.id, view.deployment),
                    },
                  ],
                } as APIActionRowComponent<APIButtonComponent>,
              ]
            : []),
        ];
  return { embeds: [embed], components };
}
