import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { alertView, sampleMessage } from '../../../test/fixtures/alerts.js';
import { KINDS } from '../../alerts/model.js';
import { escapeSlack, renderRoot } from './render.js';

/** Every text Slack shows of the blocks, with its block type. */
function texts(blocks: KnownBlock[]): Array<{ type: string; text: string }> {
  return blocks.flatMap((b): Array<{ type: string; text: string }> => {
    if (b.type === 'header' || (b.type === 'section' && b.text)) return [{ type: b.type, text: b.text!.text }];
    if (b.type === 'section') return (b.fields ?? []).map((f) => ({ type: 'field', text: f.text }));
    if (b.type === 'context') return b.elements.map((e) => ({ type: 'context', text: 'text' in e ? e.text : '' }));
    return [];
  });
}
const buttons = (blocks: KnownBlock[]) => blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements);

describe('Slack root message', () => {
  it('says what, where, how often, in what state and since when', () => {
    const { text, blocks } = renderRoot(alertView());
    expect(text).toBe(':rotating_light: XM-7 CRITICAL: Invalid executing message on chain 902 (open)');
    expect(blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🚨 XM-7 CRITICAL: Invalid executing message on chain 902' },
    });
    expect(
      texts(blocks)
        .filter((t) => t.type === 'field')
        .map((t) => t.text),
    ).toEqual([
      '*Severity*\ncritical',
      '*Kind*\ninvalid_message',
      '*Chain*\n902 (sources: 901)',
      '*Occurrences*\n1',
      '*State*\nopen',
      '*Opened*\n<!date^1700000000^{date_short_pretty} {time_secs}|2023-11-14T22:13:20.000Z>',
    ]);
  });

  it('shows each sampled message, found again on chain by block, tx, log and identifier', () => {
    const section = texts(renderRoot(alertView()).blocks).find((t) => t.text.startsWith('*Block*'));
    expect(section?.text).toBe(
      [
        '*Block* 101 `0xb1`',
        '*Tx* `0x71` log 1',
        '*msgHash* `0xa1`',
        '*Identifier* origin `0x00000000000000000000000000000000000E4170`, chain 901, block 40, log 1, timestamp 1699999990',
        '*Status* invalid: msgHash 0xab… does not match the initiating log',
      ].join('\n'),
    );
  });

  it('shows at most three messages, and how many more there are with the latest problem', () => {
    const { blocks } = renderRoot(
      alertView({ count: 12, sample: [sampleMessage(1), sampleMessage(2), sampleMessage(3)], detail: 'the newest reason' }),
    );
    expect(texts(blocks).filter((t) => t.text.startsWith('*Block*'))).toHaveLength(3);
    expect(texts(blocks).find((t) => t.text.startsWith('…and'))?.text).toBe('…and 9 more. Latest: the newest reason');
    const { blocks: one } = renderRoot(alertView());
    expect(texts(one).some((t) => t.text.startsWith('…and'))).toBe(false);
  });

  it('shows the detail of an alert about no message (a chain that stopped)', () => {
    const { blocks } = renderRoot(
      alertView(
        { kind: 'chain_unhealthy', severity: 'warning', title: KINDS.chain_unhealthy.title(902), sample: [], detail: 'RPC failing: 503' },
        KINDS.chain_unhealthy.runbook,
      ),
    );
    expect(texts(blocks)).toContainEqual({ type: 'section', text: 'RPC failing: 503' });
    expect(texts(blocks).at(-1)).toEqual({ type: 'context', text: `*Runbook:* ${KINDS.chain_unhealthy.runbook}` });
  });

  it('pages with the mention before the text, and only when asked', () => {
    expect(renderRoot(alertView(), '<!subteam^S0ONCALL>').text).toMatch(/^<!subteam\^S0ONCALL> :rotating_light: XM-7 /);
    expect(renderRoot(alertView()).text).toMatch(/^:rotating_light: /);
  });

  it('marks a warning as such', () => {
    const { text, blocks } = renderRoot(alertView({ severity: 'warning', kind: 'unpromoted', title: KINDS.unpromoted.title(902) }));
    expect(text).toBe(':warning: XM-7 WARNING: Valid messages not cross-safe in time on chain 902 (open)');
    expect(texts(blocks)[0]?.text).toBe('⚠️ XM-7 WARNING: Valid messages not cross-safe in time on chain 902');
  });

  it('offers the four buttons on an unresolved alert, each carrying the alert id', () => {
    expect(buttons(renderRoot(alertView()).blocks)).toEqual([
      { type: 'button', action_id: 'xmsg_ack', text: { type: 'plain_text', text: 'Acknowledge' }, value: 'XM-7', style: 'primary' },
      { type: 'button', action_id: 'xmsg_escalate', text: { type: 'plain_text', text: 'Escalate' }, value: 'XM-7', style: 'danger' },
      { type: 'button', action_id: 'xmsg_silence_1h', text: { type: 'plain_text', text: 'Silence 1h' }, value: 'XM-7' },
      { type: 'button', action_id: 'xmsg_resolve', text: { type: 'plain_text', text: 'Resolve' }, value: 'XM-7' },
    ]);
    expect(buttons(renderRoot(alertView({ state: 'acknowledged', ackedBy: 'alice' })).blocks)).toHaveLength(4);
  });

  it('puts the deployment the alert was posted under in each button value', () => {
    const values = buttons(renderRoot({ ...alertView(), deployment: '3f9c0a1b2c4d' }).blocks).map((b) => {
      const { action_id, value } = b as { action_id: string; value: string };
      return [action_id, value];
    });
    expect(values).toEqual([
      ['xmsg_ack', 'XM-7|3f9c0a1b2c4d'],
      ['xmsg_escalate', 'XM-7|3f9c0a1b2c4d'],
      ['xmsg_silence_1h', 'XM-7|3f9c0a1b2c4d'],
      ['xmsg_resolve', 'XM-7|3f9c0a1b2c4d'],
    ]);
  });

  it('shows who acknowledged, the silence and the escalation level', () => {
    const { text, blocks } = renderRoot(
      alertView({ state: 'acknowledged', ackedBy: 'alice (slack:U1)', silenceId: 'S-2', escalationLevel: 2 }),
    );
    expect(text).toMatch(/\(acknowledged by alice \(slack:U1\), silenced \(S-2\), escalation level 2\)$/);
    expect(texts(blocks)).toContainEqual({
      type: 'field',
      text: '*State*\nacknowledged by alice (slack:U1), silenced (S-2), escalation level 2',
    });
  });

  it('closes a resolved alert: a check mark, who resolved it, and no buttons', () => {
    const { text, blocks } = renderRoot(alertView({ state: 'resolved', resolvedBy: 'bob (discord:42)' }));
    expect(text).toBe(':rotating_light: XM-7 CRITICAL: Invalid executing message on chain 902 (resolved by bob (discord:42))');
    expect(texts(blocks)[0]?.text).toBe('✅ XM-7 CRITICAL: Invalid executing message on chain 902');
    expect(buttons(blocks)).toEqual([]);
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('escapes what chains and users wrote, so it cannot mention anyone or forge a link', () => {
    const { text, blocks } = renderRoot(
      alertView(
        {
          state: 'acknowledged',
          ackedBy: '<!channel>',
          sample: [sampleMessage(1, 'bad <https://evil|link> & more')],
          count: 2,
          detail: '<!here>',
        },
        'see <https://runbook>',
      ),
    );
    const shown = [text, ...texts(blocks).map((t) => t.text)].join('\n');
    expect(shown).not.toMatch(/<!channel>|<!here>|<https:/);
    expect(shown).toContain('&lt;!channel&gt;');
    expect(shown).toContain('bad &lt;https://evil|link&gt; &amp; more');
    expect(shown).toContain('Latest: &lt;!here&gt;');
    expect(shown).toContain('*Runbook:* see &lt;https://runbook&gt;');
    expect(escapeSlack('a & <b>')).toBe('a &amp; &lt;b&gt;');
  });

  it("keeps every text within Slack's limits (3000 for text, 150 for a header) however long the input", () => {
    const long = 'x'.repeat(10_000);
    for (const v of [
      alertView(
        { title: long, sample: [sampleMessage(1, long), sampleMessage(2, long), sampleMessage(3, long)], count: 9, detail: long },
        long,
      ),
      alertView({ title: long, sample: [], detail: long }, long),
      // Escaping triples '&', '<' and '>': the limit holds for the escaped text.
      alertView({ kind: 'chain_unhealthy', title: long, sample: [], detail: '<&>'.repeat(3_000) }, long),
    ]) {
      const shown = texts(renderRoot(v).blocks);
      for (const t of shown) expect(t.text.length).toBeLessThanOrEqual(t.type === 'header' ? 150 : 3000);
      expect(shown.find((t) => t.type === 'header')?.text).toMatch(/…$/);
    }
  });
});
