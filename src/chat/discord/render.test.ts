import { ButtonStyle, ComponentType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { ALERT_BUTTONS } from '../../../commands/handlers.js';
import { alertView, sampleMessage } from '../../../test/fixtures/alerts.js';
import type { AlertView } from '../../alerts/chat-port.js';
import { KINDS } from '../../alerts/model.js';
import { buttonId, parseButtonId, renderRoot } from './render.js';

const embedOf = (v: AlertView) => renderRoot(v).embeds[0]!;
const field = (v: AlertView, name: string) => embedOf(v).fields?.find((f) => f.name === name)?.value;

describe('Discord root message', () => {
  it('is one embed saying what, where, how often, in what state and since when', () => {
    const { embeds } = renderRoot(alertView());
    expect(embeds).toHaveLength(1);
    expect(embeds[0]).toMatchObject({
      title: 'XM-7 CRITICAL: Invalid executing message on chain 902',
      color: 0xd32f2f,
      timestamp: '2023-11-14T22:13:20.000Z',
    });
    expect(embeds[0]!.fields?.slice(0, 6)).toEqual([
      { name: 'Severity', value: 'critical', inline: true },
      { name: 'Kind', value: 'invalid_message', inline: true },
      { name: 'Chain', value: '902 (sources: 901)', inline: true },
      { name: 'Occurrences', value: '1', inline: true },
      { name: 'State', value: 'open', inline: true },
      { name: 'Opened', value: '<t:1700000000:f>', inline: true },
    ]);
    expect(embeds[0]!.fields?.at(-1)).toEqual({ name: 'Runbook', value: KINDS.invalid_message.runbook });
  });

  it('shows each sampled message, found again on chain by block, tx, log and identifier', () => {
    expect(field(alertView(), 'Message in block 101')).toBe(
      [
        'block `0xb1`',
        'tx `0x71` log 1',
        'msgHash `0xa1`',
        'identifier: origin `0x00000000000000000000000000000000000E4170`, chain 901, block 40, log 1, timestamp 1699999990',
        'status **invalid**: msgHash 0xab… does not match the initiating log',
      ].join('\n'),
    );
  });

  it('shows at most three messages, and how many more there are with the latest problem', () => {
    const v = alertView({ count: 12, sample: [sampleMessage(1), sampleMessage(2), sampleMessage(3)], detail: 'the newest reason' });
    expect(
      embedOf(v)
        .fields?.filter((f) => f.name.startsWith('Message in block'))
        .map((f) => f.name),
    ).toEqual(['Message in block 101', 'Message in block 102', 'Message in block 103']);
    expect(field(v, 'Latest')).toBe('…and 9 more. the newest reason');
    expect(field(alertView(), 'Latest')).toBeUndefined();
  });

  it('shows the detail of an alert about no message (a chain that stopped), not "and n more"', () => {
    const embed = embedOf(alertView({ kind: 'chain_unhealthy', severity: 'warning', sample: [], count: 1, detail: 'RPC failing: 503' }));
    expect(embed.fields).toContainEqual({ name: 'Detail', value: 'RPC failing: 503' });
    expect(JSON.stringify(embed.fields)).not.toContain('more');
  });

  it('colours the embed by severity, and green once resolved', () => {
    expect(embedOf(alertView({ severity: 'warning' })).color).toBe(0xf9a825);
    expect(embedOf(alertView({ state: 'resolved', resolvedBy: 'bob' })).color).toBe(0x2e7d32);
    expect(embedOf(alertView({ severity: 'warning', state: 'resolved', resolvedBy: 'bob' })).color).toBe(0x2e7d32);
  });

  it('shows who acknowledged or resolved, the silence and the escalation level', () => {
    expect(field(alertView({ state: 'acknowledged', ackedBy: 'alice (discord:42)', silenceId: 'S-2', escalationLevel: 3 }), 'State')).toBe(
      'acknowledged by alice (discord:42), silenced (S-2), escalation level 3',
    );
    expect(field(alertView({ state: 'resolved', resolvedBy: 'bob (slack:U1)' }), 'State')).toBe('resolved by bob (slack:U1)');
  });

  it('offers the four buttons on an unresolved alert, and none once resolved', () => {
    expect(renderRoot(alertView()).components).toEqual([
      {
        type: ComponentType.ActionRow,
        components: [
          { type: ComponentType.Button, style: ButtonStyle.Primary, label: 'Acknowledge', custom_id: 'xmsg|ack|XM-7' },
          { type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Escalate', custom_id: 'xmsg|escalate|XM-7' },
          { type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Silence 1h', custom_id: 'xmsg|silence_1h|XM-7' },
          { type: ComponentType.Button, style: ButtonStyle.Success, label: 'Resolve', custom_id: 'xmsg|resolve|XM-7' },
        ],
      },
    ]);
    expect(renderRoot(alertView({ state: 'resolved', resolvedBy: 'bob' })).components).toEqual([]);
  });

  it("keeps within Discord's embed limits however long the input", () => {
    const long = 'x'.repeat(10_000);
    const v = alertView(
      { title: long, sample: [sampleMessage(1, long), sampleMessage(2, long), sampleMessage(3, long)], count: 9, detail: long },
      long,
    );
    const embed = embedOf(v);
    expect(embed.title!.length).toBeLessThanOrEqual(256);
    expect(embed.title).toMatch(/…$/);
    expect(embed.fields!.length).toBeLessThanOrEqual(25);
    for (const f of embed.fields!) {
      expect(f.name.length).toBeLessThanOrEqual(256);
      expect(f.value.length).toBeLessThanOrEqual(1024);
      expect(f.value.length).toBeGreaterThan(0);
    }
    // All of an embed's text together: at most 6000 characters.
    const total = embed.title!.length + embed.fields!.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
  });
});

describe('button ids', () => {
  it('carry the button and the alert, and read back', () => {
    for (const button of ALERT_BUTTONS) {
      expect(buttonId(button, 'XM-42')).toBe(`xmsg|${button}|XM-42`);
      expect(parseButtonId(buttonId(button, 'XM-42'))).toEqual({ button, alertId: 'XM-42' });
    }
    for (const { custom_id } of renderRoot(alertView()).components[0]!.components as Array<{ custom_id: string }>) {
      expect(parseButtonId(custom_id)?.alertId).toBe('XM-7');
    }
  });

  it("are not read from another app's ids or incomplete ones", () => {
    for (const id of ['', 'other|ack|XM-1', 'xmsg|ack', 'xmsg||XM-1', 'xmsg|ack|', 'ack']) expect(parseButtonId(id)).toBeUndefined();
    for (const id of ['xmsg|ack|XM-1|', 'xmsg|ack|XM-1|a1|b2', 'xmsg|ack|XM-1|A1B2', 'xmsg|ack|XM-x|a1b2', 'xmsg|ack|a1b2|XM-1'])
      expect(parseButtonId(id), id).toBeUndefined();
  });

  it('carry the deployment the alert was posted under, within the 100 characters Discord allows', () => {
    const view = { ...alertView(), deployment: '3f9c0a1b2c4d' };
    const ids = (renderRoot(view).components[0]!.components as Array<{ custom_id: string }>).map((c) => c.custom_id);
    expect(ids).toEqual(ALERT_BUTTONS.map((b) => `xmsg|${b}|XM-7|3f9c0a1b2c4d`));
    for (const button of ALERT_BUTTONS) {
      expect(parseButtonId(buttonId(button, 'XM-42', '3f9c0a1b2c4d'))).toEqual({ button, alertId: 'XM-42', deployment: '3f9c0a1b2c4d' });
      // The longest: the longest button name, a 12-digit alert number and the longest deployment id read back.
      expect(buttonId(button, 'XM-999999999999', 'z'.repeat(32)).length).toBeLessThanOrEqual(100);
    }
    // Posted before buttons carried a deployment: read as the alert alone, acted on as before.
    expect(parseButtonId('xmsg|ack|XM-7')).toEqual({ button: 'ack', alertId: 'XM-7' });
  });
});
