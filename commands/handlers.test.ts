import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/alerts/chat-port.js';
import type { Alert } from '../src/alerts/model.js';
import type { Silence } from '../src/alerts/silences.js';
import { alertFixture } from '../test/fixtures/alerts.js';
import { alertLine, type CommandDeps, type HealthReport, runButton, runCommand, silenceLine } from './handlers.js';
import { LookupLimit } from './lookup-limit.js';

const alert = (o: Partial<Alert> = {}): Alert =>
  alertFixture({ title: 'Invalid executing message on chain 902', count: 3, sample: [], detail: '', ...o });

const oncall: Actor = { platform: 'slack', userId: 'U1', name: 'alice', canAct: true };
const stranger: Actor = { platform: 'slack', userId: 'U9', name: 'mallory', canAct: false };
const HASH = `0x${'ab'.repeat(32)}`;

/**
 * Dependencies for the replies that need no alert store: each test names what it provides, and a reply that
 * reached for anything else would fail on it.
 */
const deps = (o: { health?: () => Promise<HealthReport>; lookupFails?: Error; deploymentId?: string; lookupLimit?: LookupLimit } = {}) =>
  ({
    health: o.health,
    deploymentId: async () => o.deploymentId,
    lookupLimit: o.lookupLimit ?? { take: async () => ({ ok: true }) },
    lookup: {
      tracked: async () => [],
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

describe('silenceLine', () => {
  const HOUR = 3_600_000;
  const at = Date.UTC(2030, 5, 1, 14);
  const s = (o: Partial<Silence>): Silence => ({
    id: 'S-4',
    matcher: 'chain',
    value: '902',
    from: at,
    until: at + 2 * HOUR,
    by: 'alice (slack:U1)',
    reason: 'batcher upgrade',
    createdAt: at - HOUR,
    endedBy: '',
    ...o,
  });

  it('shows a silence in effect with its end, and a scheduled one with its window', () => {
    expect(silenceLine(s({}), at)).toBe(
      'S-4: chain 902 muted until 2030-06-01T16:00:00.000Z (since 2030-06-01T14:00:00.000Z), by alice (slack:U1): batcher upgrade',
    );
    expect(silenceLine(s({ matcher: 'alert', value: 'XM-7', reason: '' }), at - 1)).toBe(
      'S-4: alert XM-7 to be muted from 2030-06-01T14:00:00.000Z until 2030-06-01T16:00:00.000Z (scheduled), by alice (slack:U1)',
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
      'failsafe',
    ]);
    expect(lines).toContain(
      '/xmsg silence <chain-id | origin | kind | XM-id> <duration> [at <ISO time | +duration>] [reason]: mute new alerts of a chain, origin or kind, or one alert, for 90s, 15m, 2h, 1d…; at: a later window',
    );
  });

  it('refuses an action to someone who may not act, with the platform reason when it gave one', async () => {
    for (const line of ['ack XM-1', 'escalate XM-1', 'resolve XM-1', 'silence 902 1h', 'unsilence S-1']) {
      const name = line.split(' ')[0];
      expect(await runCommand(line, stranger, deps())).toEqual({
        ok: false,
        text: `You may not ${name}: only the on-call and escalation groups and admins may act on alerts.`,
      });
    }
    expect(await runCommand('ack XM-1', { ...stranger, refusal: 'you are not in #oncall' }, deps())).toEqual({
      ok: false,
      text: 'You may not ack: you are not in #oncall.',
    });
    expect(await runButton('silence_1h', 'XM-1', stranger, deps())).toEqual({
      ok: false,
      text: 'You may not silence: only the on-call and escalation groups and admins may act on alerts.',
    });
    expect((await runButton('resolve', 'XM-1', stranger, deps())).text).toBe(
      'You may not resolve: only the on-call and escalation groups and admins may act on alerts.',
    );
  });

  it('changes nothing for a button of an earlier state of Redis, and lets current and older buttons through', async () => {
    const stale = 'XM-5 belongs to an earlier state of xmsg (Redis was reset); nothing changed.';
    for (const button of ['ack', 'escalate', 'silence_1h', 'resolve'] as const) {
      // The deps have no alert store: a press that reached for an alert would throw instead of answering.
      expect(await runButton(button, 'XM-5', oncall, deps({ deploymentId: 'b2b2b2b2b2b2' }), 'a1a1a1a1a1a1')).toEqual({
        ok: false,
        text: stale,
      });
      // Redis holds no marker yet (lost, not re-created): no button from before is current.
      expect(await runButton(button, 'XM-5', oncall, deps(), 'a1a1a1a1a1a1')).toEqual({ ok: false, text: stale });
    }
    // The current deployment's button, and a button posted before buttons carried one, go on to the permission check.
    expect((await runButton('ack', 'XM-5', stranger, deps({ deploymentId: 'a1a1a1a1a1a1' }), 'a1a1a1a1a1a1')).text).toBe(
      'You may not ack: only the on-call and escalation groups and admins may act on alerts.',
    );
    expect((await runButton('ack', 'XM-5', stranger, deps({ deploymentId: 'a1a1a1a1a1a1' }))).text).toBe(
      'You may not ack: only the on-call and escalation groups and admins may act on alerts.',
    );
  });

  it("shows each chain's heads, cursor and lag, the queues, and alerts whose chat deliveries are parked", async () => {
    const health = async (): Promise<HealthReport> => ({
      chains: [
        { chainId: 901, latest: '120', safe: '100', finalized: '80', cursor: '117', healthy: true },
        { chainId: 902, healthy: false, reason: 'RPC failing: fetch failed' },
      ],
      queues: { check: { waiting: 4, active: 1 }, events: { waiting: 0 } },
      parked: [{ platform: 'slack', alertId: 'XM-7', at: Date.parse('2030-01-02T03:04:05Z'), reason: 'slack: thread_not_found' }],
    });
    expect(await runCommand('health', stranger, deps({ health }))).toEqual({
      ok: true,
      text: [
        'chain 901: healthy; latest 120, safe 100, finalized 80, cursor 117 (lag 3)',
        'chain 902: UNHEALTHY (RPC failing: fetch failed); latest ?, safe ?, finalized ?, cursor ? (lag ?)',
        'queue check: waiting 4, active 1',
        'queue events: waiting 0',
        'parked: XM-7 on slack since 2030-01-02T03:04:05.000Z (slack: thread_not_found); its updates there are dropped',
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

describe('the lookup limit', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `xmsgtest-lookup-limit-${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
    await redis.quit();
  });

  it('allows 5 chain lookups a minute per person and platform, then says how long to wait', async () => {
    const limited = deps({ lookupLimit: new LookupLimit(redis, prefix) });
    const notFound = `No executing message with msgHash or txHash \`${HASH}\` is tracked or in the recent blocks of any chain.`;
    for (let i = 0; i < 5; i++) expect((await runCommand(`status ${HASH}`, stranger, limited)).text).toBe(notFound);
    const refused = await runCommand(`status ${HASH}`, stranger, limited);
    expect(refused.ok).toBe(false);
    expect(refused.text).toMatch(
      /^Lookups on the chains are limited to 5 per person every 60 s; try again in (60|59) s\. Alerts \(`\/xmsg status XM-7`\) and messages xmsg tracks are not limited\.$/,
    );
    // Someone else, and the same user id on another platform, have their own allowance.
    expect((await runCommand(`status ${HASH}`, oncall, limited)).text).toBe(notFound);
    expect((await runCommand(`status ${HASH}`, { ...stranger, platform: 'discord' }, limited)).text).toBe(notFound);
  });

  it('opens again when the window ends', async () => {
    const limit = new LookupLimit(redis, `${prefix}-short`, 2, 300);
    const who = { platform: 'console', userId: 'ops' };
    expect(await limit.take(who)).toEqual({ ok: true });
    expect(await limit.take(who)).toEqual({ ok: true });
    expect(await limit.take(who)).toMatchObject({ ok: false, retryInS: 1 });
    await new Promise((r) => setTimeout(r, 350));
    expect(await limit.take(who)).toEqual({ ok: true });
  });
});
