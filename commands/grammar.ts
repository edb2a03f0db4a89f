import { isAddress, isHex } from 'viem';
import { ALERT_KINDS, type AlertKind, isAlertKind } from '../src/alerts/model.js';
import { SILENCE_LIMITS, type Silence } from '../src/alerts/silences.js';

/** The `/xmsg` command model shared by every chat platform. */
export type Command =
  | { name: 'help' }
  | { name: 'status'; target: { alertId: string } | { hash: `0x${string}` } }
  | { name: 'list'; filter: ListFilter }
  | { name: 'ack' | 'escalate' | 'resolve'; alertId: string }
  | { name: 'silence'; matcher: Silence['matcher']; value: string; durationMs: number; start?: SilenceStart; reason: string }
  | { name: 'unsilence'; silenceId: string }
  | { name: 'health' }
  | { name: 'failsafe'; action: 'on'; alertId?: string; reason: string }
  | { name: 'failsafe'; action: 'off'; reason: string }
  | { name: 'failsafe'; action: 'status' };

/** When a maintenance window starts: at a time (ms since the epoch), or after a delay from when the command runs. */
export type SilenceStart = { at: number } | { after: number };

export type ListFilter = 'open' | 'acked' | 'silenced' | 'all';
export const FAILSAFE_ACTIONS = ['on', 'off', 'status'] as const;
export const LIST_FILTERS: readonly ListFilter[] = ['open', 'acked', 'silenced', 'all'];

export interface OptionSpec {
  name: string;
  description: string;
  required: boolean;
  choices?: readonly string[];
  /** The word the command line puts before the option's value, e.g. `at` for a window's start. */
  keyword?: string;
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
    args: '<chain-id | origin | kind | XM-id> <duration> [at <ISO time | +duration>] [reason]',
    summary: 'mute new alerts of a chain, origin or kind, or one alert, for 90s, 15m, 2h, 1d…; at: a later window',
    acts: true,
    options: [
      { name: 'target', description: 'chain id, origin address, alert kind or alert id (XM-42)', required: true },
      { name: 'duration', description: 'e.g. 90s, 15m, 2h, 1d', required: true },
      {
        name: 'at',
        description: 'start later: an ISO time with its zone (2025-06-01T14:00Z) or +duration (+30m)',
        required: false,
        keyword: 'at',
      },
      { name: 'reason', description: 'why, for the audit trail', required: false },
    ],
  },
  {
    name: 'unsilence',
    args: '<S-id>',
    summary: 'end a silence early, or cancel a scheduled one',
    acts: true,
    options: [{ name: 'id', description: 'silence id, e.g. S-3', required: true }],
  },
  { name: 'health', args: '', summary: "each chain's heads and lag, and queue depths", acts: false, options: [] },
  {
    name: 'failsafe',
    args: 'on [XM-id] <reason> | off <reason> | status',
    summary: 'the interop failsafe (op-interop-filter refuses every executing message while on): two on-call members must agree',
    // On-call membership is checked by the failsafe itself: a refusal is audited, and `status` is for everyone.
    acts: false,
    options: [
      { name: 'action', description: 'on, off or status', required: true, choices: FAILSAFE_ACTIONS },
      { name: 'alert', description: 'on: the alert it is about, e.g. XM-42', required: false },
      { name: 'reason', description: 'why, for the thread and the audit trail (required for on and off)', required: false },
    ],
  },
];

/** The command line a structured command stands for, so every platform goes through the same parser. */
export function commandLine(subcommand: string, options: Record<string, string | undefined>): string {
  const spec = SUBCOMMANDS.find((s) => s.name === subcommand);
  if (!spec) return subcommand;
  const words = spec.options.flatMap((o) => {
    const value = options[o.name]?.trim();
    if (!value) return [];
    // A keyword the user typed in the option's value too is not doubled.
    return o.keyword && !value.toLowerCase().startsWith(`${o.keyword} `) ? [o.keyword, value] : [value];
  });
  return [subcommand, ...words].join(' ');
}

export const usageOf = (name: Command['name']) => {
  const spec = SUBCOMMANDS.find((s) => s.name === name)!;
  return `/xmsg ${spec.name}${spec.args ? ` ${spec.args}` : ''}`;
};

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string; usage: string };

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
    case 'silence':
      return parseSilence(words);
    case 'failsafe':
      return parseFailsafe(words);
  }
}

/** `failsafe on [XM-id] <reason>`, `failsafe off <reason>`, `failsafe status`: the words after `failsafe`. */
function parseFailsafe(words: string[]): ParseResult {
  const name = 'failsafe';
  const action = (words.shift() ?? '').toLowerCase();
  if (action === 'status') return words.length ? fail(name, 'status takes no arguments') : { ok: true, command: { name, action } };
  if (action !== 'on' && action !== 'off')
    return fail(name, action ? `"${truncate(action)}" is not on, off or status` : 'missing on, off or status');
  const alertId = action === 'on' && words[0] && ALERT_ID.test(words[0]) ? words.shift()!.toUpperCase() : undefined;
  if (action === 'off' && words[0] && ALERT_ID.test(words[0])) return fail(name, 'failsafe off names no alert: give the reason only');
  const reason = words.join(' ');
  if (!reason)
    return fail(
      name,
      `missing the reason: it goes in the thread and the audit trail of this ${action === 'on' ? 'cluster-wide stop' : 'restart'} of interop`,
    );
  if (reason.length > MAX_REASON_CHARS) return fail(name, `the reason is longer than ${MAX_REASON_CHARS} characters`);
  return { ok: true, command: action === 'on' ? { name, action, ...(alertId ? { alertId } : {}), reason } : { name, action, reason } };
}

/** `silence <target> <duration> [at <when>] [reason]`: the words after `silence`. */
function parseSilence(words: string[]): ParseResult {
  const name = 'silence';
  if (words.length < 2) return fail(name, 'needs what to silence and for how long');
  const [target, duration, ...rest] = words as [string, string, ...string[]];
  const matcher = silenceMatcher(target);
  if (!matcher) {
    return fail(
      name,
      `"${truncate(target)}" is not a chain id, a 0x origin address, an alert kind (${ALERT_KINDS.join(', ')}) or an alert id like XM-42`,
    );
  }
  const durationMs = parseDuration(duration);
  if (durationMs === undefined || durationMs <= 0) return fail(name, `"${truncate(duration)}" is not a duration like 90s, 15m, 2h or 1d`);
  if (durationMs > SILENCE_LIMITS.maxDurationMs) return fail(name, 'a silence lasts at most 30 days');
  let start: SilenceStart | undefined;
  // `at` right after the duration starts a maintenance window; anywhere else it is a word of the reason.
  if (rest[0]?.toLowerCase() === 'at') {
    const when = rest[1];
    if (when === undefined) return fail(name, 'missing the time after "at": an ISO time like 2025-06-01T14:00Z, or +30m');
    const parsed = parseStart(when);
    if (typeof parsed === 'string') return fail(name, parsed);
    start = parsed;
    rest.splice(0, 2);
  }
  const reason = rest.join(' ');
  if (reason.length > MAX_REASON_CHARS) return fail(name, `the reason is longer than ${MAX_REASON_CHARS} characters`);
  return { ok: true, command: { name, ...matcher, durationMs, ...(start ? { start } : {}), reason } };
}

/**
 * A window's start: `+<duration>` from when the command runs, or an ISO-8601 time with its zone (`Z` or `+02:00`);
 * seconds and milliseconds are optional. Else why not.
 */
export function parseStart(text: string): SilenceStart | string {
  if (text.startsWith('+')) {
    const after = parseDuration(text.slice(1));
    if (after === undefined || after <= 0) return `"${truncate(text)}" is not a delay like +30m or +2h`;
    if (after > SILENCE_LIMITS.maxLeadMs) return 'a silence starts at most 30 days from now';
    return { after };
  }
  const at = parseIsoTime(text);
  if (at === 'no zone') return `"${truncate(text)}" has no time zone: add Z for UTC or an offset, e.g. 2025-06-01T14:00Z`;
  if (at === undefined) return `"${truncate(text)}" is not a time like 2025-06-01T14:00Z, nor a delay like +30m`;
  return { at };
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** An ISO-8601 date and time (ms since the epoch); 'no zone' without one; undefined for anything else or a day that does not exist. */
export function parseIsoTime(text: string): number | 'no zone' | undefined {
  const m = ISO_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second = 0, ms = '0', zone] = [
    ...m.slice(1, 7).map((n) => (n === undefined ? undefined : Number(n))),
    m[7],
    m[8],
  ] as [number, number, number, number, number, number | undefined, string | undefined, string | undefined];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Date.UTC rolls 30 February over into March: a day past its month's last is refused instead.
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  if (zone === undefined) return 'no zone';
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const [, sign, hh, mm] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(hh) > 23 || Number(mm) > 59) return undefined;
    offsetMin = (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm));
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, Number(ms.padEnd(3, '0'))) - offsetMin * 60_000;
}

function silenceMatcher(target: string): { matcher: Silence['matcher']; value: string } | undefined {
  if (ALERT_ID.test(target)) return { matcher: 'alert', value: target.toUpperCase() };
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
