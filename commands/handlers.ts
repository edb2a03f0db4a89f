import type { Actor } from '../src/alerts/chat-port.js';
import type { Failsafe, FailsafeEndpointState } from '../src/alerts/failsafe.js';
import { type MessageAlerts, messageAlerts } from '../src/alerts/message-alerts.js';
import type { Alert } from '../src/alerts/model.js';
import type { ParkedAlert } from '../src/alerts/notifier.js';
import type { AlertService } from '../src/alerts/service.js';
import { inEffect, type Silence, silenceSubject } from '../src/alerts/silences.js';
import { firstLine } from '../src/errors.js';
import type { Found, MessageLookup } from '../src/jobs/lookup.js';
import { type Command, type ListFilter, parseCommand, SUBCOMMANDS, usageOf } from './grammar.js';
import type { LookupLimit } from './lookup-limit.js';

/** Said when a platform gives no reason of its own for refusing someone an action. */
const WHO_MAY_ACT = 'only the on-call and escalation groups and admins may act on alerts';

export interface ChainHealth {
  chainId: number;
  latest?: string;
  safe?: string;
  finalized?: string;
  cursor?: string;
  healthy: boolean;
  reason?: string;
}

export interface HealthReport {
  chains: ChainHealth[];
  queues: Record<string, Record<string, number>>;
  /** Alerts whose chat deliveries are parked, oldest first. */
  parked: ParkedAlert[];
  /** The interop failsafe of each admin endpoint as last read, when the failsafe is configured. */
  failsafe?: FailsafeEndpointState[];
}

export interface CommandDeps {
  alerts: AlertService;
  lookup: MessageLookup;
  health: () => Promise<HealthReport>;
  /** The deployment id Redis holds now (src/store/deployment.ts); undefined while it holds none. */
  deploymentId: () => Promise<string | undefined>;
  /** Per-person limit on lookups that reach the chains (`/xmsg status <hash>` of an untracked message). */
  lookupLimit: Pick<LookupLimit, 'take'>;
  /** The interop failsafe, when XMSG_FAILSAFE_RPCS is set: its commands and the alerts' Enable failsafe button. */
  failsafe?: Pick<Failsafe, 'vote' | 'status'>;
}

/** What the adapter shows the user (ephemeral on every platform). Plain text with `code` spans only. */
export interface CommandReply {
  ok: boolean;
  text: string;
}

/** Runs one `/xmsg ...` line for an actor: parse, check permission, execute. Never throws for user input. */
export async function runCommand(input: string, actor: Actor, deps: CommandDeps): Promise<CommandReply> {
  const parsed = parseCommand(input);
  if (!parsed.ok) return { ok: false, text: `${parsed.error}.\nUsage:\n${parsed.usage}` };
  return executeCommand(parsed.command, actor, deps);
}

export async function executeCommand(command: Command, actor: Actor, deps: CommandDeps): Promise<CommandReply> {
  const spec = SUBCOMMANDS.find((s) => s.name === command.name)!;
  if (spec.acts && !actor.canAct) {
    return { ok: false, text: `You may not ${command.name}: ${actor.refusal ?? WHO_MAY_ACT}.` };
  }
  const { alerts } = deps;
  switch (command.name) {
    case 'help':
      return {
        ok: true,
        text: ['xmsg watches interop executing messages. Commands:', ...SUBCOMMANDS.map((s) => `${usageOf(s.name)}: ${s.summary}`)].join(
          '\n',
        ),
      };
    case 'list':
      return { ok: true, text: await listAlerts(alerts, command.filter) };
    case 'status':
      return 'alertId' in command.target ? alertStatus(alerts, command.target.alertId) : messageStatus(deps, command.target.hash, actor);
    case 'ack':
      return known(alerts, command.alertId, () => alerts.ack(command.alertId, actor));
    case 'escalate':
      return known(alerts, command.alertId, () => alerts.escalate(command.alertId, actor));
    case 'resolve':
      return known(alerts, command.alertId, () => alerts.resolve(command.alertId, actor));
    case 'silence': {
      const { matcher, value, durationMs, start, reason } = command;
      const startsAt = start === undefined ? undefined : 'at' in start ? start.at : Date.now() + start.after;
      if (matcher === 'alert') return known(alerts, value, () => alerts.silenceAlert(value, durationMs, actor, reason, startsAt));
      return alerts.silence({ matcher, value }, { durationMs, startsAt }, reason, actor);
    }
    case 'unsilence':
      return alerts.unsilence(command.silenceId, actor);
    case 'health':
      return { ok: true, text: renderHealth(await deps.health()) };
    case 'failsafe': {
      if (!deps.failsafe) return { ok: false, text: FAILSAFE_OFF };
      if (command.action === 'status') return { ok: true, text: await deps.failsafe.status() };
      return deps.failsafe.vote(command.action, actor, command.reason, command.action === 'on' ? command.alertId : undefined);
    }
  }
}

const FAILSAFE_OFF = 'The interop failsafe is not configured here (XMSG_FAILSAFE_RPCS is not set).';

async function known(alerts: AlertService, alertId: string, action: () => Promise<CommandReply>): Promise<CommandReply> {
  if (!(await alerts.store.get(alertId))) return { ok: false, text: `No alert ${alertId} (unknown, or expired after its retention).` };
  return action();
}

export function alertLine(a: Alert): string {
  const state = a.silenceId ? `${a.state}, silenced (${a.silenceId})` : a.state;
  const ack = a.ackedBy ? `, acked by ${a.ackedBy}` : '';
  return `${a.id} [${a.severity}] ${a.title}: ${a.count} occurrence${a.count === 1 ? '' : 's'}, ${state}${ack}, level ${a.escalationLevel}, opened ${new Date(a.createdAt).toISOString()}`;
}

async function listAlerts(alerts: AlertService, filter: ListFilter): Promise<string> {
  const all = await alerts.store.list(filter === 'all' ? 'all' : 'unresolved');
  const shown = all.filter((a) =>
    filter === 'open'
      ? a.state === 'open' && !a.silenceId
      : filter === 'acked'
        ? a.state === 'acknowledged'
        : filter === 'silenced'
          ? a.silenceId !== ''
          : true,
  );
  const now = Date.now();
  const silences = filter === 'silenced' || filter === 'all' ? await alerts.store.unendedSilences(now) : [];
  const lines = [
    ...(shown.length ? [`${filter} alerts:`, ...shown.map(alertLine)] : [`No ${filter} alerts.`]),
    ...(silences.length ? ['Silences in effect and scheduled:', ...silences.map((s) => silenceLine(s, now))] : []),
  ];
  return lines.join('\n');
}

/** One silence on one line: id, what it mutes, its window, who made it and why. */
export function silenceLine(s: Silence, now: number): string {
  const window = inEffect(s, now)
    ? `muted until ${iso(s.until)} (since ${iso(s.from)})`
    : `to be muted from ${iso(s.from)} until ${iso(s.until)} (scheduled)`;
  return `${s.id}: ${silenceSubject(s)} ${window}, by ${s.by}${s.reason ? `: ${s.reason}` : ''}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function alertStatus(alerts: AlertService, alertId: string): Promise<CommandReply> {
  const alert = await alerts.store.get(alertId);
  if (!alert) return { ok: false, text: `No alert ${alertId} (unknown, or expired after its retention).` };
  const audit = await alerts.store.audit(alertId);
  const sample = alert.sample.map(
    (m) =>
      `  chain ${m.executingChainId} block ${m.blockNumber} tx \`${m.txHash}\` log ${m.logIndex} msgHash \`${m.msgHash}\`: ${m.status} (${m.reason})`,
  );
  return {
    ok: true,
    text: [
      alertLine(alert),
      `Latest: ${alert.detail}`,
      ...(sample.length ? ['Messages:', ...sample] : []),
      'Audit:',
      ...audit.map((e) => `  ${new Date(e.at).toISOString()} ${e.who}: ${e.action}${e.note ? ` (${e.note})` : ''}`),
    ].join('\n'),
  };
}

async function messageStatus({ lookup, alerts, lookupLimit }: CommandDeps, hash: `0x${string}`, actor: Actor): Promise<CommandReply> {
  let found: Found[];
  try {
    found = await lookup.tracked(hash);
    if (!found.length) {
      // Only a lookup that reaches the chains counts (it reads XMSG_STATUS_LOOKBACK_BLOCKS blocks of every chain).
      const permit = await lookupLimit.take(actor);
      if (!permit.ok) return { ok: false, text: permit.text };
      found = await lookup.byMsgHash(hash);
      if (!found.length) found = await lookup.byTxHash(hash);
    }
  } catch (err) {
    return { ok: false, text: `Could not look up \`${hash}\` on the chains: ${firstLine(err)}` };
  }
  if (!found.length)
    return { ok: false, text: `No executing message with msgHash or txHash \`${hash}\` is tracked or in the recent blocks of any chain.` };
  // As GET /api/messages/:msgHash shows them: the alerts raised for each tracked message and the events it caused.
  const caused = await messageAlerts(
    alerts.store,
    found.flatMap((f) => ('tracked' in f ? [f.tracked.data.id] : [])),
  );
  return { ok: true, text: found.map((f) => foundLine(f, 'tracked' in f ? caused.get(f.tracked.data.id) : undefined)).join('\n') };
}

function foundLine(f: Found, caused: MessageAlerts | undefined): string {
  if ('tracked' in f) {
    const { data: d, status, reason, safety } = f.tracked;
    const line = `chain ${d.chainId} block ${d.blockNumber} tx \`${d.txHash}\` log ${d.logIndex}: ${status} (${reason}), ${safety}; msgHash \`${d.msgHash}\` from chain ${d.identifier.chainId} block ${d.identifier.blockNumber} log ${d.identifier.logIndex}`;
    return caused ? `${line}${causedText(caused)}` : line;
  }
  const d = f.untracked;
  return `chain ${d.chainId} block ${d.blockNumber} tx \`${d.txHash}\` log ${d.logIndex}: ${f.verdict.status} (${f.verdict.reason}), checked now (not tracked); msgHash \`${d.msgHash}\``;
}

/** "; alerts XM-1 (invalid_message), …; events invalid_message, …", or nothing when it caused none. */
function causedText({ alerts, events }: MessageAlerts): string {
  const parts = [
    ...(alerts.length ? [`alerts ${alerts.map((a) => `${a.id} (${a.kind})`).join(', ')}`] : []),
    ...(events.length ? [`events ${events.join(', ')}`] : []),
  ];
  return parts.length ? `; ${parts.join('; ')}` : '';
}

function renderHealth(h: HealthReport): string {
  const chains = h.chains.map((c) => {
    const lag = c.latest !== undefined && c.cursor !== undefined ? BigInt(c.latest) - BigInt(c.cursor) : undefined;
    return `chain ${c.chainId}: ${c.healthy ? 'healthy' : `UNHEALTHY (${c.reason ?? 'unknown'})`}; latest ${c.latest ?? '?'}, safe ${c.safe ?? '?'}, finalized ${c.finalized ?? '?'}, cursor ${c.cursor ?? '?'} (lag ${lag ?? '?'})`;
  });
  const queues = Object.entries(h.queues).map(
    ([name, counts]) =>
      `queue ${name}: ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
  );
  const parked = h.parked.map(
    (p) => `parked: ${p.alertId} on ${p.platform} since ${new Date(p.at).toISOString()} (${p.reason}); its updates there are dropped`,
  );
  const failsafe = (h.failsafe ?? []).map(
    (f) =>
      `failsafe ${f.endpoint}: ${f.enabled === undefined ? 'unknown' : f.enabled ? 'ENABLED (executing messages refused)' : 'disabled'}${f.error ? ` (last read failed: ${f.error})` : ''}`,
  );
  return [...chains, ...queues, ...parked, ...failsafe].join('\n');
}

/** The four buttons on every alert's root message, on every platform, in this order and with these labels. */
export const ALERT_BUTTONS = ['ack', 'escalate', 'silence_1h', 'resolve'] as const;
export type AlertButton = (typeof ALERT_BUTTONS)[number];
export const ALERT_BUTTON_LABELS: Record<AlertButton, string> = {
  ack: 'Acknowledge',
  escalate: 'Escalate',
  silence_1h: 'Silence 1h',
  resolve: 'Resolve',
};
const BUTTON_SILENCE_MS = 3_600_000;

/**
 * The fifth button, on the roots of consensus-bug kinds while the failsafe is configured (`AlertView.failsafe`): a
 * vote to enable the failsafe, as `/xmsg failsafe on <XM-id>` (a request, or the confirmation of another member's).
 */
export const FAILSAFE_BUTTON = 'failsafe_on' as const;
export const FAILSAFE_BUTTON_LABEL = 'Enable failsafe';
/** Every button a root may carry, for the platforms' checks of a press. */
export const ROOT_BUTTONS = [...ALERT_BUTTONS, FAILSAFE_BUTTON] as const;
export type RootButton = (typeof ROOT_BUTTONS)[number];

/**
 * A button press: the same permission rule and actions as the matching command. `deployment` is the deployment id the
 * button was posted under: after Redis lost its state alert numbers restart, so a button of an earlier state names
 * another alert than it shows and must change nothing. Buttons posted before buttons carried it have none, and act.
 */
export async function runButton(
  button: RootButton,
  alertId: string,
  actor: Actor,
  deps: CommandDeps,
  deployment?: string,
): Promise<CommandReply> {
  if (deployment !== undefined && deployment !== (await deps.deploymentId()))
    return { ok: false, text: `${alertId} belongs to an earlier state of xmsg (Redis was reset); nothing changed.` };
  if (button === FAILSAFE_BUTTON) {
    if (!deps.failsafe) return { ok: false, text: FAILSAFE_OFF };
    return known(deps.alerts, alertId, () => deps.failsafe!.vote('on', actor, `from ${alertId}'s Enable failsafe button`, alertId));
  }
  if (button !== 'silence_1h') return executeCommand({ name: button, alertId }, actor, deps);
  if (!actor.canAct) return { ok: false, text: `You may not silence: ${actor.refusal ?? WHO_MAY_ACT}.` };
  return known(deps.alerts, alertId, () => deps.alerts.silenceAlert(alertId, BUTTON_SILENCE_MS, actor, "silenced from the alert's button"));
}
