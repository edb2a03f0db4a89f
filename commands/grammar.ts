import { isAddress, isHex } from 'viem';
import { ALERT_KINDS, type AlertKind, isAlertKind } from '../src/alerts/model.js';

/** The `/xmsg` command model shared by every chat platform. */
export type Command =
  | { name: 'help' }
  | { name: 'status'; target: { alertId: string } | { hash: `0x${string}` } }
  | { name: 'list'; filter: ListFilter }
  | { name: 'ack' | 'escalate' | 'resolve'; alertId: string }
  | { name: 'silence'; matcher: 'chain' | 'origin' | 'kind'; value: string; durationMs: number; reason: string }
  | { name: 'unsilence'; silenceId: string }
  | { name: 'health' };

export type ListFilter = 'open' | 'acked' | 'silenced' | 'all';
export const LIST_FILTERS: readonly ListFilter[] = ['open', 'acked', 'silenced', 'all'];

export interface OptionSpec {
  name: string;
  description: string;
  required: boolean;
  choices?: readonly string[];
}

export interface SubcommandSpec {
  name: Command['name'];
  args: string;
  summary: string;
  /** Changes an alert or a silence: only on-call members and admins may run it. */
  acts: boolean;
  /** The arguments as named options, in order, for platforms with structured commands (Discord). */
  options: readonly OptionSpec[];
}

const alertIdOption: OptionSpec = { name: 'id', description: 'alert id, e.g. XM-42', required: true };

export const SUBCOMMANDS: readonly SubcommandSpec[] = [
  { name: 'help', args: '', summary: 'this help', acts: false, options: [] },
  {
    name: 'status',
    args: '<XM-id | msgHash | txHash>',
    summary: 'an alert, or a message (checked on chain if xmsg does not track it)',
    acts: false,
    options: [{ name: 'target', description: 'XM-id, msgHash or txHash', required: true }],
  },
  {
    name: 'list',
    args: '[open|acked|silenced|all]',
    summary: 'alerts (default: open)',
    acts: false,
    options: [{ name: 'filter', description: 'which alerts (default open)', required: false, choices: LIST_FILTERS }],
  },
  { name: 'ack', args: '<XM-id>', summary: 'acknowledge: stops escalation', acts: true, options: [alertIdOption] },
  { name: 'escalate', args: '<XM-id>', summary: 'page the next on-call level now', acts: true, options: [alertIdOption] },
  { name: 'resolve', args: '<XM-id>', summary: 'close the alert', acts: true, options: [alertIdOption] },
  {
    name: 'silence',
    args: '<chain-id | origin | kind> <duration> [reason]',
    summary: 'mute new alerts matching a chain, origin address or alert kind, e.g. 2h, 30m, 1d',
    acts: true,
    options: [
      { name: 'target', description: 'chain id, origin address or alert kind', required: true },
      { name: 'duration', description: 'e.g. 30m, 2h, 1d', required: true },
      { name: 'reason', description: 'why, for the audit trail', required: false },
    ],
  },
  {
    name: 'unsilence',
    args: '<S-id>',
    summary: 'end a silence early',
    acts: true,
    options: [{ name: 'id', description: 'silence id, e.g. S-3', required: true }],
  },
  { name: 'health', args: '', summary: "each chain's heads and lag, and queue depths", acts: false, options: [] },
];

/** The command line a structured command stands for, so every platform goes through the same parser. */
export function commandLine(subcommand: string, options: Record<string, string | undefined>): string {
  const spec = SUBCOMMANDS.find((s) => s.name === subcommand);
  if (!spec) return subcommand;
  return [subcommand, ...spec.options.map((o) => options[o.name]?.trim()).filter((v): v is string => !!v)].join(' ');
}

export const usageOf = (name: Command['name']) => {
  const spec = SUBCOMMANDS.find((s) => s.name === name)!;
  return `/xmsg ${spec.name}${spec.args ? ` ${spec.args}` : ''}`;
};

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string; usage: string };

const MAX_SILENCE_MS = 30 * 86_400_000;
const MAX_REASON_CHARS = 300;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `1h`, `30m`, `1h30m`, `2d`; undefined when it is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(?:\d+[smhdw])+$/i.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (const [, n, unit] of text.toLowerCase().matchAll(/(\d+)([smhdw])/g)) total += Number(n) * UNIT_MS[unit!]!;
  return total;
}

const fail = (name: Command['name'] | undefined, error: string): ParseResult => ({
  ok: false,
  error,
  usage: name ? usageOf(name) : SUBCOMMANDS.map((s) => usageOf(s.name)).join('\n'),
});

const ALERT_ID = /^XM-\d{1,12}$/i;
const SILENCE_ID = /^S-\d{1,12}$/i;

/** Parses what follows `/xmsg`. Every mistake gets a reason and the usage of the sub-command. */
export function parseCommand(input: string): ParseResult {
  const words = input.trim().split(/\s+/).filter(Boolean);
  const sub = (words.shift() ?? 'help').toLowerCase();
  const spec = SUBCOMMANDS.find((s) => s.name === sub);
  if (!spec) return fail(undefined, `unknown sub-command "${truncate(sub)}"`);
  const name = spec.name;
  const tooMany = (max: number) => (words.length > max ? fail(name, `too many arguments (${words.length}, at most ${max})`) : undefined);

  switch (name) {
    case 'help':
    case 'health':
      return tooMany(0) ?? { ok: true, command: { name } };
    case 'status': {
      if (!words.length) return fail(name, 'missing the XM-id, msgHash or txHash');
      const target = words[0]!;
      if (ALERT_ID.test(target)) return tooMany(1) ?? { ok: true, command: { name, target: { alertId: target.toUpperCase() } } };
      if (isHex(target, { strict: true }) && target.length === 66) {
        return tooMany(1) ?? { ok: true, command: { name, target: { hash: target.toLowerCase() as `0x${string}` } } };
      }
      return fail(name, `"${truncate(target)}" is neither an alert id (XM-42) nor a 32-byte 0x hash`);
    }
    case 'list': {
      const filter = (words[0] ?? 'open').toLowerCase();
      if (!LIST_FILTERS.includes(filter as ListFilter)) return fail(name, `unknown filter "${truncate(filter)}"`);
      return tooMany(1) ?? { ok: true, command: { name, filter: filter as ListFilter } };
    }
    case 'ack':
    case 'escalate':
    case 'resolve': {
      if (!words.length) return fail(name, 'missing the alert id');
      if (!ALERT_ID.test(words[0]!)) return fail(name, `"${truncate(words[0]!)}" is not an alert id like XM-42`);
      return tooMany(1) ?? { ok: true, command: { name, alertId: words[0]!.toUpperCase() } };
    }
    case 'unsilence': {
      if (!words.length) return fail(name, 'missing the silence id');
      if (!SILENCE_ID.test(words[0]!)) return fail(name, `"${truncate(words[0]!)}" is not a silence id like S-3`);
      return tooMany(1) ?? { ok: true, command: { name, silenceId: words[0]!.toUpperCase() } };
    }
    case 'silence': {
      if (words.length < 2) return fail(name, 'needs what to silence and for how long');
      const [target, duration, ...reasonWords] = words as [string, string, ...string[]];
      const matcher = silenceMatcher(target);
      if (!matcher) {
        return fail(name, `"${truncate(target)}" is not a chain id, a 0x origin address or an alert kind (${ALERT_KINDS.join(', ')})`);
      }
      const durationMs = parseDuration(duration);
      if (durationMs === undefined || durationMs <= 0) return fail(name, `"${truncate(duration)}" is not a duration like 30m, 2h or 1d`);
      if (durationMs > MAX_SILENCE_MS) return fail(name, 'a silence lasts at most 30 days');
      const reason = reasonWords.join(' ');
      if (reason.length > MAX_REASON_CHARS) return fail(name, `the reason is longer than ${MAX_REASON_CHARS} characters`);
      return { ok: true, command: { name, ...matcher, durationMs, reason } };
    }
  }
}

function silenceMatcher(target: string): { matcher: 'chain' | 'origin' | 'kind'; value: string } | undefined {
  if (/^\d{1,20}$/.test(target)) return { matcher: 'chain', value: String(BigInt(target)) };
  if (isAddress(target, { strict: false })) return { matcher: 'origin', value: target.toLowerCase() };
  const kind = target.toLowerCase();
  if (isAlertKind(kind)) return { matcher: 'kind', value: kind satisfies AlertKind };
  return undefined;
}

/** User input echoed back is cut short, so a 10 kB argument does not become a 10 kB error. */
function truncate(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
