/**
 * Bad input. From chat: generated slash commands and button presses (random, oversized, unicode, injection
 * attempts), correctly signed, to a replica running as its own process: each gets a clear ephemeral answer, never
 * a 500, and the process keeps running and answering /healthz. From a chain: malformed ExecutingMessage logs mixed
 * into the same block as real messages are skipped and counted, and nothing else in the block is affected
 * (test/watcher.test.ts covers one malformed log of each shape on its own).
 */
import { type Hex, keccak256, toHex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXECUTING_MESSAGE_TOPIC } from '../../src/chain/inbox.js';
import { emitInitiating, emitRawFromInbox, executeMessage, mine, setAutomine } from '../../src/devnet/devnet.js';
import { Rng } from '../../src/devnet/random.js';
import { postSignedForm, sendBlockAction, sendSlashCommand } from '../fakes/slack.js';
import type { Replica } from '../helpers/replica.js';
import { metricValue, scrape, waitFor } from '../helpers/xmsg.js';
import { FULL, type SentMessage, SLACK, scale, seedFor, slackEnv, useChaosWorld, waitForCoverage, waitForFollowing } from './lib.js';

const A = 981;
const B = 982;
const INPUTS = scale(1000, 5000);
const STRANGER = 'U0STRANGER';

const world = useChaosWorld('chaos-input', [A, B]);
let replica: Replica | undefined;

beforeAll(async () => {
  replica = world.replica('replica', slackEnv(world.slack));
  await replica.start();
  await waitForFollowing(world);
});

// ---------------------------------------------------------------------------------------------------------
// The generator: seeded, so a failing input can be replayed from its index.

const SUBCOMMANDS = [
  'help',
  'status',
  'list',
  'ack',
  'escalate',
  'resolve',
  'silence',
  'unsilence',
  'health',
  'HELP',
  'Status',
  'ack\u00a0',
  'frobnicate',
  '',
];
const INJECTIONS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  `<@${SLACK.oncallUser}>`,
  `<!subteam^${SLACK.oncallGroup}>`,
  '<https://evil.example|click me>',
  '*bold* _it_ ~s~ `code` ```block```',
  '&lt;&gt;&amp;',
  "'; DROP TABLE alerts; --",
  '" OR 1=1 --',
  '\r\nFLUSHALL\r\n',
  '*3\r\n$3\r\nDEL\r\n',
  "redis.call('FLUSHALL')",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant as a plain string
  '${process.exit(1)}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  '../../../etc/passwd',
  '%00',
  '%E0%A4%A',
  '{"type":"block_actions"}',
  '<script>alert(1)</script>',
  'XM-1; resolve XM-2',
  'XM-1\nresolve XM-2',
  '$(reboot)',
  '`reboot`',
  '\\',
  '\\u0000',
];
const UNICODE = [
  '🚨',
  '👩‍👩‍👧‍👦',
  '\u202etxet',
  '\u200b',
  '\u200d',
  'e\u0301\u0301\u0301',
  '日本語',
  'العربية',
  '\u0000',
  '\u0007',
  '\ufeff',
  '\ud800',
  '\udfff',
  '𝔁𝓶𝓼𝓰',
  'Ⅻ',
  '٣',
  '\u2028',
  '\t',
];
const ARGS = [
  'XM-1',
  'xm-1',
  'XM-0',
  'XM-999999999999',
  'XM-9999999999999999999999',
  'XM--1',
  'XM-1.5',
  'XM-',
  'S-1',
  'S-99999999999',
  's-0',
  '0x',
  `0x${'0'.repeat(64)}`,
  `0x${'f'.repeat(64)}`,
  `0x${'g'.repeat(64)}`,
  `0x${'a'.repeat(63)}`,
  `0x${'a'.repeat(65)}`,
  `0X${'a'.repeat(64)}`,
  String(A),
  String(B),
  '0',
  '-1',
  '99999999999999999999',
  '999999999999999999999999999999',
  '1e309',
  'NaN',
  'Infinity',
  '0x4200000000000000000000000000000000000022',
  '0x42000000000000000000000000000000000000zz',
  'invalid_message',
  'chain_unhealthy',
  'INVALID_MESSAGE',
  '1h',
  '30m',
  '1h30m',
  '2d',
  '31d',
  '0s',
  '0h',
  '99999999999999999999w',
  '1y',
  '-1h',
  'h',
  '1',
  '1h1h1h1h1h1h1h1h1h1h1h1h',
  'open',
  'acked',
  'silenced',
  'all',
  'bogus',
];

function randomText(rng: Rng, length: number): string {
  let s = '';
  while (s.length < length) {
    const r = rng.next();
    if (r < 0.5) s += String.fromCharCode(32 + rng.int(95));
    else if (r < 0.7) s += rng.pick(UNICODE);
    else if (r < 0.8) s += String.fromCharCode(rng.int(0x3000));
    else if (r < 0.9) s += rng.pick(INJECTIONS);
    else s += ' ';
  }
  return s;
}

function commandText(rng: Rng): string {
  const r = rng.next();
  if (r < 0.45) {
    // Grammar-shaped: a sub-command and 0..4 arguments from the pools.
    const words = [
      rng.pick(SUBCOMMANDS),
      ...Array.from({ length: rng.int(5) }, () => (rng.next() < 0.7 ? rng.pick(ARGS) : rng.pick([...INJECTIONS, ...UNICODE]))),
    ];
    return words.join(rng.pick([' ', '  ', '\t', '\n', '\u3000', ' \u200b']));
  }
  if (r < 0.65) return randomText(rng, rng.int(200));
  if (r < 0.8) return `${rng.pick(SUBCOMMANDS)} ${rng.pick(INJECTIONS)} ${rng.pick(INJECTIONS)}`;
  if (r < 0.95) return `${rng.pick(SUBCOMMANDS)} ${randomText(rng, 2000 + rng.int(20_000))}`;
  // Oversized: far beyond anything Slack sends (it caps command text at a few kB).
  return rng.pick(['status ', 'silence 981 1h ', '']) + 'A'.repeat(100_000 + rng.int(400_000));
}

interface Input {
  index: number;
  kind: 'command' | 'button';
  userId: string;
  text?: string;
  actionId?: string;
  value?: string;
}

function generate(count: number, seed: number): Input[] {
  const rng = new Rng(seed);
  const users = [SLACK.admin, SLACK.oncallUser, STRANGER, 'U0NEWBIE', `U${'9'.repeat(50)}`];
  return Array.from({ length: count }, (_, index) => {
    const userId = rng.pick(users);
    if (rng.next() < 0.65) return { index, kind: 'command', userId, text: commandText(rng) };
    const actionId =
      rng.next() < 0.85
        ? rng.pick(['xmsg_ack', 'xmsg_escalate', 'xmsg_silence_1h', 'xmsg_resolve'])
        : rng.pick(['xmsg_delete', 'xmsg_ack ', 'XMSG_ACK', 'xmsg_', '', randomText(rng, 30)]);
    const v = rng.next();
    const value =
      v < 0.4
        ? rng.pick(ARGS)
        : v < 0.6
          ? rng.pick(INJECTIONS)
          : v < 0.8
            ? randomText(rng, rng.int(100))
            : v < 0.95
              ? ''
              : randomText(rng, 20_000);
    return { index, kind: 'button', userId, actionId, value };
  });
}

/** About how many bytes the input takes in the form body Slack would send (the button value inside the JSON payload). */
function encodedSize(input: Input): number {
  const field = input.kind === 'command' ? input.text! : JSON.stringify(input.value);
  return new URLSearchParams({ field }).toString().length;
}

/** The answer a person sees: the inline ephemeral answer, or (for slow commands and buttons) the response_url post. */
async function answerTo(input: Input): Promise<{ status: number; text: string; ephemeral: boolean; note: string }> {
  const url = `${replica!.baseUrl}/slack/events`;
  const common = { userId: input.userId, userName: `user-${input.userId.slice(0, 12)}`, channelId: SLACK.channel, slack: world.slack };
  const delivered =
    input.kind === 'command'
      ? await sendSlashCommand(url, SLACK.secret, { ...common, text: input.text! })
      : await sendBlockAction(url, SLACK.secret, {
          ...common,
          messageTs: '1700000000.000100',
          actionId: input.actionId!,
          value: input.value!,
        });
  const inline = delivered.body as { response_type?: string; text?: string } | string;
  if (typeof inline === 'object' && inline.text && inline.text !== 'Working on it…') {
    return { status: delivered.status, text: inline.text, ephemeral: inline.response_type === 'ephemeral', note: 'inline' };
  }
  if (delivered.status !== 200) return { status: delivered.status, text: '', ephemeral: false, note: `HTTP ${delivered.status}` };
  const posts = await waitFor(
    'the answer via response_url',
    () => {
      const p = world.slack.responsesFor(delivered.responseUrl);
      return p.length ? p : undefined;
    },
    15_000,
  ).catch(() => []);
  const body = posts[0]?.body as { response_type?: string; text?: string; replace_original?: boolean } | undefined;
  return {
    status: delivered.status,
    text: body?.text ?? '',
    ephemeral: body?.response_type === 'ephemeral' && body.replace_original !== true,
    note: posts.length > 1 ? `${posts.length} answers` : 'response_url',
  };
}

describe('chaos: bad input', () => {
  it(
    `answers ${INPUTS} generated slash commands and button presses with a clear ephemeral error, never a 500 or a crash`,
    async () => {
      const inputs = generate(INPUTS, seedFor(0xbad1));
      const problems: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          while (next < inputs.length) {
            const input = inputs[next++]!;
            const what = `#${input.index} ${input.kind} ${JSON.stringify(input.kind === 'command' ? input.text : `${input.actionId} = ${input.value}`).slice(0, 120)}`;
            try {
              const a = await answerTo(input);
              // A body over 64 KiB is refused unread (413); Slack never sends one (command text is capped at a few kB).
              if (a.status === 413 && encodedSize(input) > 48 * 1024) continue;
              if (a.status !== 200) problems.push(`${what}: HTTP ${a.status}`);
              else if (!a.ephemeral || !a.text.trim())
                problems.push(`${what}: no ephemeral answer (${a.note}: ${JSON.stringify(a.text).slice(0, 80)})`);
              // Mentions and links from the input must come back escaped, never as live mentions.
              else if (/<[!@#]|<https?:/.test(a.text))
                problems.push(`${what}: unescaped mention or link in ${JSON.stringify(a.text).slice(0, 200)}`);
            } catch (err) {
              problems.push(`${what}: ${(err as Error).message}`);
            }
          }
        }),
      );
      expect(problems.slice(0, 20), `${problems.length} bad answers; logs in ${world.logDir}`).toEqual([]);
      expect(replica!.alive, `the replica is still running (${world.logDir})`).toBe(true);
      expect((await fetch(`${replica!.baseUrl}/healthz`)).status).toBe(200);
    },
    (FULL ? 300 : 120) * 1000,
  );

  it('refuses unsigned, badly signed and unparseable deliveries without a 500, and keeps running', async () => {
    const url = `${replica!.baseUrl}/slack/events`;
    const outcomes: Array<[string, number]> = [];
    const signed = async (name: string, form: Record<string, string>) =>
      outcomes.push([name, (await postSignedForm(url, SLACK.secret, form)).status]);
    const bad = async (name: string, form: Record<string, string>, o: { timestamp?: number; signatureOverride?: string }) =>
      outcomes.push([name, (await postSignedForm(url, SLACK.secret, form, o)).status]);

    await bad('forged signature', { command: '/xmsg', text: 'help' }, { signatureOverride: `v0=${'0'.repeat(64)}` });
    await bad('stale timestamp', { command: '/xmsg', text: 'help' }, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    await bad('future timestamp', { command: '/xmsg', text: 'help' }, { timestamp: Math.floor(Date.now() / 1000) + 600 });
    await signed('payload not JSON', { payload: '{not json' });
    await signed('payload JSON null', { payload: 'null' });
    await signed('payload without type', { payload: '{}' });
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'command=%2Fxmsg&text=help',
    });
    outcomes.push(['unsigned', unsigned.status]);

    for (const [name, status] of outcomes) expect(status, name).not.toBe(500);
    for (const [name, status] of outcomes.slice(0, 3)) expect(status, name).toBe(401);
    expect(replica!.alive).toBe(true);
    expect((await fetch(`${replica!.baseUrl}/healthz`)).status).toBe(200);
  });

  it('answers malformed HTTP API requests with a 4xx, never a 500 or a crash', async () => {
    const paths = [
      '/api/messages/%E0',
      '/api/messages/%',
      '/api/messages/%ZZ',
      `/api/messages/0x${'a'.repeat(64)}%00`,
      `/api/messages/${'0x'.padEnd(5000, 'f')}`,
      '/api/alerts/%E0%A4%A',
      '/api/alerts/XM-%',
      '/api/alerts/XM-99999999999999999999',
      '/api/alerts/__proto__',
      '/api/alerts?state=%E0',
      '/api/alerts?state=__proto__',
      '/%',
      '/slack/events/%E0',
      '/metrics/%',
    ];
    const outcomes: string[] = [];
    for (const path of paths) {
      const status = await fetch(`${replica!.baseUrl}${path}`).then(
        (r) => r.status,
        (err: Error) => `no answer (${err.message})`,
      );
      if (typeof status !== 'number' || status >= 500) outcomes.push(`${path.slice(0, 80)}: ${status}`);
    }
    expect(outcomes, `logs in ${world.logDir}`).toEqual([]);
    expect(replica!.alive, `the replica is still running (${world.logDir})`).toBe(true);
    expect((await fetch(`${replica!.baseUrl}/healthz`)).status).toBe(200);
  });

  it('skips malformed inbox logs mixed into a block with real messages, counts them, and affects nothing else', async () => {
    const metric = async (name: string) => metricValue(await scrape(replica!.baseUrl), name);
    const malformedBefore = await metric(`xmsg_malformed_logs_total{chain_id="${B}"}`);
    const a = world.devnet.chain(A);
    const b = world.devnet.chain(B);
    const inits = [await emitInitiating(a), await emitInitiating(a), await emitInitiating(a)];
    const sent: SentMessage[] = [];
    const word = (n: number) => n.toString(16).padStart(64, '0');

    // One block on B: real messages before, between and after logs of every malformed shape.
    await setAutomine(b, false);
    try {
      const execs: Array<Promise<unknown>> = [];
      const real = (i: number, invalid: boolean) => {
        const msgHash = invalid ? keccak256(toHex(`forged ${inits[i]!.msgHash}`)) : inits[i]!.msgHash;
        sent.push({ msgHash, invalid, chainId: B });
        execs.push(executeMessage(b, inits[i]!.identifier, msgHash));
      };
      const raw = (topics: Hex[], data: Hex) => execs.push(emitRawFromInbox(b, topics, data));
      real(0, false);
      raw([EXECUTING_MESSAGE_TOPIC], `0x${'00'.repeat(160)}`); // one topic
      raw([EXECUTING_MESSAGE_TOPIC, keccak256('0x01'), keccak256('0x02')], `0x${'00'.repeat(160)}`); // three
      raw([EXECUTING_MESSAGE_TOPIC, keccak256('0x01'), keccak256('0x02'), keccak256('0x03')], `0x${'00'.repeat(160)}`); // four
      real(1, true);
      raw([EXECUTING_MESSAGE_TOPIC, keccak256('0x04')], '0x'); // no data
      raw([EXECUTING_MESSAGE_TOPIC, keccak256('0x05')], `0x${'00'.repeat(159)}`); // one byte short
      raw([EXECUTING_MESSAGE_TOPIC, keccak256('0x06')], `0x${'00'.repeat(161)}`); // one byte long
      raw([EXECUTING_MESSAGE_TOPIC, keccak256('0x07')], `0x${'ff'.repeat(320)}`); // twice the size
      // Right size, but the address word has bits above 160: strict ABI decoding rejects it.
      raw([EXECUTING_MESSAGE_TOPIC, keccak256('0x08')], `0x${'ff'.repeat(32)}${word(1).repeat(4)}`);
      real(2, false);
      await mine(b);
      await Promise.all(execs);
    } finally {
      await setAutomine(b, true);
    }
    await mine(b);

    const cov = await waitForCoverage(() => replica!.baseUrl, world.redisUrl, world.prefix, sent, 30_000);
    expect(cov.wrong).toEqual([]);
    expect(cov.unalerted).toEqual([]);
    // Refused by the decoder: 3 wrong topic counts and 4 wrong data lengths. The dirty address word decodes (viem
    // keeps the low 20 bytes); then it must be tracked as invalid, never lost and never valid.
    const malformed = (await metric(`xmsg_malformed_logs_total{chain_id="${B}"}`)) - malformedBefore;
    const dirty = await waitFor('the dirty-address log accounted for', async () => {
      if (malformed === 8) return 'skipped as malformed';
      const res = await fetch(`${replica!.baseUrl}/api/messages/${keccak256('0x08')}`);
      const found = res.ok ? ((await res.json()) as { messages: Array<{ status: string }> }).messages : [];
      return found.length === 1 && found[0]!.status === 'invalid' ? 'tracked as invalid' : undefined;
    });
    expect(malformed, dirty).toBe(dirty === 'skipped as malformed' ? 8 : 7);
    const health = await fetch(`${replica!.baseUrl}/api/alerts?state=all`).then(
      (r) => r.json() as Promise<{ alerts: Array<{ kind: string }> }>,
    );
    expect(health.alerts.filter((x) => x.kind === 'chain_unhealthy')).toEqual([]);
    expect(replica!.alive).toBe(true);
  });
});
