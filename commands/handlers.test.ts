import { describe, expect, it } from 'vitest';
import type { Actor } from '../src/alerts/chat-port.js';
import type { Alert } from '../src/alerts/model.js';
import { alertFixture } from '../test/fixtures/alerts.js';
import { alertLine, type CommandDeps, type HealthReport, runButton, runCommand } from './handlers.js';

const alert = (o: Partial<Alert> = {}): Alert =>
  alertFixture({ title: 'Invalid executing message on chain 902', count: 3, sample: [], detail: '', ...o });

const oncall: Actor = { platform: 'slack', userId: 'U1', name: 'alice', canAct: true };
const stranger: Actor = { platform: 'slack', userId: 'U9', name: 'mallory', canAct: false };
const HASH = `0x${'ab'.repeat(32)}`;

/**
 * Dependencies for the replies that need no alert store: each test names what it provides, and a reply that
 * reached for anything else would fail on it.
 */
const deps = (o: { health?: () => Promise<HealthReport>; lookupFails?: Error } = {}) =>
  ({
    health: o.health,
    lookup: {
      byMsgHash: async () => {
        if (o.lookupFails) throw o.lookupFails;
        return [];
      },
      byTxHash: async () => [],
    },
  }) as unknown as CommandDeps;

describe('alertLine', () => {
  it('sums an alert up on one line', () => {
    expect(alertLine(alert())).toBe(
      'XM-7 [critical] Invalid executing message on chain 902: 3 occurrences, open, level 0, opened 2023-11-14T22:13:20.000Z',
    );
  });

  it('says occurrence for one, and shows the silence, who acknowledged and the level', () => {
    expect(alertLine(alert({ count: 1, state: 'acknowledged', ackedBy: 'alice (slack:U1)', silenceId: 'S-2', escalationLevel: 2 }))).toBe(
      'XM-7 [critical] Invalid executing message on chain 902: 1 occurrence, acknowledged, silenced (S-2), acked by alice (slack:U1), level 2, opened 2023-11-14T22:13:20.000Z',
    );
  });
});

describe('runCommand replies that need no alert store', () => {
  it('answers a mistake with the reason and the usage', async () => {
    expect(await runCommand('ack 42', oncall, deps())).toEqual({
      ok: false,
      text: '"42" is not an alert id like XM-42.\nUsage:\n/xmsg ack <XM-id>',
    });
  });

  it('lists every command in the help', async () => {
    const reply = await runCommand('', oncall, deps());
    expect(reply.ok).toBe(true);
    const lines = reply.text.split('\n');
    expect(lines[0]).toBe('xmsg watches interop executing messages. Commands:');
    expect(lines.slice(1).map((l) => /^\/xmsg (\w+)/.exec(l)?.[1])).toEqual([
      'help',
      'status',
      'list',
      'ack',
      'escalate',
      'resolve',
      'silence',
      'unsilence',
      'health',
    ]);
    expect(lines).toContain(
      '/xmsg silence <chain-id | origin | kind> <duration> [reason]: mute new alerts matching a chain, origin address or alert kind, e.g. 2h, 30m, 1d',
    );
  });

  it('refuses an action to someone who may not act, with the platform reason when it gave one', async () => {
    for (const line of ['ack XM-1', 'escalate XM-1', 'resolve XM-1', 'silence 902 1h', 'unsilence S-1']) {
      const name = line.split(' ')[0];
      expect(await runCommand(line, stranger, deps())).toEqual({
        ok: false,
        text: `You may not ${name}: only the on-call group and admins may act on alerts.`,
      });
    }
    expect(await runCommand('ack XM-1', { ...stranger, refusal: 'you are not in #oncall' }, deps())).toEqual({
      ok: false,
      text: 'You may not ack: you are not in #oncall.',
    });
    expect(await runButton('silence_1h', 'XM-1', stranger, deps())).toEqual({
      ok: false,
      text: 'You may not silence: only the on-call group and admins may act on alerts.',
    });
    expect((await runButton('resolve', 'XM-1', stranger, deps())).text).toBe(
      'You may not resolve: only the on-call group and admins may act on alerts.',
    );
  });

  it("shows each chain's heads, cursor and lag, and the queues", async () => {
    const health = async (): Promise<HealthReport> => ({
      chains: [
        { chainId: 901, latest: '120', safe: '100', finalized: '80', cursor: '117', healthy: true },
        { chainId: 902, healthy: false, reason: 'RPC failing: fetch failed' },
      ],
      queues: { check: { waiting: 4, active: 1 }, events: { waiting: 0 } },
    });
    expect(await runCommand('health', stranger, deps({ health }))).toEqual({
      ok: true,
      text: [
        'chain 901: healthy; latest 120, safe 100, finalized 80, cursor 117 (lag 3)',
        'chain 902: UNHEALTHY (RPC failing: fetch failed); latest ?, safe ?, finalized ?, cursor ? (lag ?)',
        'queue check: waiting 4, active 1',
        'queue events: waiting 0',
      ].join('\n'),
    });
  });

  it('says when no chain knows a hash, and why a lookup failed', async () => {
    expect(await runCommand(`status ${HASH}`, stranger, deps())).toEqual({
      ok: false,
      text: `No executing message with msgHash or txHash \`${HASH}\` is tracked or in the recent blocks of any chain.`,
    });
    expect(await runCommand(`status ${HASH}`, stranger, deps({ lookupFails: new Error('HTTP request failed.\nStatus: 503') }))).toEqual({
      ok: false,
      text: `Could not look up \`${HASH}\` on the chains: HTTP request failed.`,
    });
  });
});
