import type { Logger } from 'pino';
import { type DomainEvent, type EventHandler, isMessageEvent, type MessageEvent, type MessageSnapshot } from '../events/types.js';
import type { Metrics } from '../metrics.js';
import { type Actor, actorLabel, type Mention } from './chat-port.js';
import type { EscalationTimers } from './escalation.js';
import { type AlertKind, KINDS, type MessageSummary } from './model.js';
import type { Notifier } from './notifier.js';
import { matchingSilence } from './silences.js';
import type { AlertStore, ChangeResult, Silence } from './store.js';

export interface AlertPolicy {
  escalateAfterS: number;
  escalationRepeatS: number;
  /** Occurrences of one condition within this window fold into one alert. */
  groupWindowS: number;
}

export interface AlertServiceDeps {
  store: AlertStore;
  /** The chat outbox: every change a thread must show goes there. */
  notifier: Notifier;
  timers: EscalationTimers;
  policy: AlertPolicy;
  metrics: Metrics;
  log: Logger;
}

export type Outcome = { ok: true; text: string } | { ok: false; text: string };

const MESSAGE_EVENT_KINDS: Partial<Record<DomainEvent['type'], AlertKind>> = {
  invalid_message: 'invalid_message',
  cross_safety_violation: 'cross_safety_violation',
  unpromoted: 'unpromoted',
  pending_timeout: 'pending_timeout',
  status_flip: 'status_flip',
};

/**
 * Turns domain events into alerts and applies operators' actions to them. State lives in the AlertStore (atomic
 * per change); what chat must show goes to the Notifier; unacknowledged alerts get escalation timers.
 */
export class AlertService implements EventHandler {
  /** Where the alerts are, also for reading them (the commands and the API do). */
  readonly store: AlertStore;

  constructor(private readonly deps: AlertServiceDeps) {
    this.store = deps.store;
  }

  start(): void {
    this.deps.timers.start((job) => this.onTimer(job.alertId, job.level));
  }

  async onEvent(event: DomainEvent): Promise<void> {
    if (event.type === 'chain_unhealthy') {
      await this.open(event.id, 'chain_unhealthy', event.chainId, { detail: event.reason, groupWindowMs: 0 });
      return;
    }
    if (event.type === 'chain_recovered') {
      const alertId = await this.store.alertForDedupKey(dedupKey('chain_unhealthy', event.chainId));
      if (alertId)
        await this.change(alertId, 'recovered', 'xmsg', `Chain ${event.chainId} recovered: ${event.reason}. Resolved automatically.`, {
          eventId: event.id,
        });
      return;
    }
    const kind = MESSAGE_EVENT_KINDS[event.type];
    if (!isMessageEvent(event)) return;
    if (kind) {
      await this.openForMessage(event, kind);
      return;
    }
    if (event.type === 'replaced') await this.followUp(event, 'note', replacedText(event));
    if (event.type === 'promoted')
      await this.followUp(
        event,
        'promoted',
        `Message ${short(event.message.msgHash)} in block ${event.message.blockNumber} is now cross-safe (safe head ${event.safeHead}).`,
      );
  }

  // Operator actions, shared by every chat platform through commands/.

  async ack(alertId: string, actor: Actor): Promise<Outcome> {
    const r = await this.act(alertId, 'ack', actor, `Acknowledged by ${actor.name}.`);
    if (r.ok) {
      const alert = await this.store.get(alertId);
      if (alert) await this.deps.timers.cancel(alertId, alert.escalationLevel + 1);
    }
    return r;
  }

  resolve(alertId: string, actor: Actor): Promise<Outcome> {
    return this.act(alertId, 'resolve', actor, `Resolved by ${actor.name}.`);
  }

  async escalate(alertId: string, actor: Actor): Promise<Outcome> {
    const before = await this.store.get(alertId);
    const level = (before?.escalationLevel ?? 0) + 1;
    const mention: Mention = level >= 2 ? 'escalation' : 'oncall';
    const r = await this.act(alertId, 'escalate', actor, `Escalated by ${actor.name} (level ${level}).`, mention);
    if (r.ok && before) this.deps.metrics.escalations.inc({ kind: before.kind });
    return r;
  }

  async silenceAlert(alertId: string, durationMs: number, actor: Actor, reason = ''): Promise<Outcome> {
    const alert = await this.store.get(alertId);
    if (!alert) return { ok: false, text: `No alert ${alertId}.` };
    const silence = await this.store.addSilence({
      matcher: 'alert',
      value: alertId,
      until: Date.now() + durationMs,
      by: actorLabel(actor),
      reason,
      createdAt: Date.now(),
    });
    const text = `Silenced until ${iso(silence.until)} by ${actor.name}${reason ? `: ${reason}` : ''} (${silence.id}).`;
    const r = await this.store.change(alertId, 'silence', actorLabel(actor), { silenceId: silence.id, note: text });
    if ('refused' in r) return { ok: false, text: `${alertId} cannot be silenced: ${r.refused}.` };
    await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text });
    await this.deps.timers.cancel(alertId, alert.escalationLevel + 1);
    return { ok: true, text: `${alertId} silenced until ${iso(silence.until)} (${silence.id}).` };
  }

  async silence(
    matcher: Exclude<Silence['matcher'], 'alert'>,
    value: string,
    durationMs: number,
    reason: string,
    actor: Actor,
  ): Promise<Outcome> {
    const silence = await this.store.addSilence({
      matcher,
      value,
      until: Date.now() + durationMs,
      by: actorLabel(actor),
      reason,
      createdAt: Date.now(),
    });
    this.deps.log.info({ silence }, 'silence added');
    return { ok: true, text: `${silence.id}: new alerts matching ${matcher} ${value} are muted until ${iso(silence.until)}.` };
  }

  async unsilence(silenceId: string, actor: Actor): Promise<Outcome> {
    const silence = await this.store.getSilence(silenceId);
    if (!silence || !(await this.store.endSilence(silenceId))) return { ok: false, text: `No active silence ${silenceId}.` };
    if (silence.matcher === 'alert') {
      const r = await this.store.change(silence.value, 'unmute', actorLabel(actor), { note: `silence ${silenceId} ended` });
      if (!('refused' in r))
        await this.deps.notifier.notify({
          type: 'update',
          alertId: silence.value,
          seq: r.seq,
          text: `Silence ${silenceId} ended by ${actor.name}.`,
        });
    }
    this.deps.log.info({ silenceId, by: actorLabel(actor) }, 'silence ended');
    return { ok: true, text: `${silenceId} ended.` };
  }

  private async act(
    alertId: string,
    action: 'ack' | 'resolve' | 'escalate',
    actor: Actor,
    text: string,
    mention?: Mention,
  ): Promise<Outcome> {
    const r = await this.store.change(alertId, action, actorLabel(actor), { note: text });
    if ('refused' in r) return { ok: false, text: `${alertId}: ${r.refused}.` };
    const alert = await this.store.get(alertId);
    if (alert) this.deps.metrics.alertChanges.inc({ kind: alert.kind, action });
    await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text, mention });
    return { ok: true, text: `${alertId}: ${text}` };
  }

  private async openForMessage(event: MessageEvent, kind: AlertKind): Promise<void> {
    const m = event.message;
    const detail =
      event.type === 'status_flip'
        ? `${short(m.msgHash)} changed from ${event.previousStatus} to ${m.status}: ${m.reason}`
        : event.type === 'cross_safety_violation'
          ? `${short(m.msgHash)} (${m.status}: ${m.reason}) is in block ${m.blockNumber}, at or below the safe head ${event.safeHead}`
          : `${short(m.msgHash)}: ${m.status}: ${m.reason}`;
    await this.open(event.id, kind, m.chainId, {
      detail,
      sourceChainId: Number(m.identifier.chainId),
      summary: summarize(m),
      messageId: m.id,
      origin: m.identifier.origin,
      groupWindowMs: this.deps.policy.groupWindowS * 1000,
    });
  }

  private async open(
    eventId: string,
    kind: AlertKind,
    chainId: number,
    o: { detail: string; groupWindowMs: number; sourceChainId?: number; summary?: MessageSummary; messageId?: string; origin?: string },
  ): Promise<void> {
    const info = KINDS[kind];
    const silence = matchingSilence(await this.store.activeSilences(), kind, chainId, o.sourceChainId, o.origin);
    const r = await this.store.open({
      eventId,
      dedupKey: dedupKey(kind, chainId),
      kind,
      severity: info.severity,
      title: info.title(chainId),
      chainId,
      sourceChainId: o.sourceChainId,
      summary: o.summary,
      detail: o.detail,
      messageId: o.messageId,
      silenceId: silence?.id ?? '',
      groupWindowMs: o.groupWindowMs,
    });
    this.deps.metrics.alertChanges.inc({ kind, action: r.created ? 'opened' : 'grew' });
    if (!r.created) {
      await this.unmuteIfSilenceEnded(r.alertId);
      await this.deps.notifier.notify({ type: 'grew', alertId: r.alertId, seq: r.seq });
      return;
    }
    this.deps.log.warn({ alertId: r.alertId, kind, chainId, silenced: silence?.id }, 'alert opened');
    if (silence) return;
    if (info.pageAtOnce) {
      // The first post pages; the timer chain continues from level 1.
      const paged = await this.store.change(r.alertId, 'timer', 'xmsg', { level: 1, eventId: `${eventId}-page` });
      this.deps.metrics.escalations.inc({ kind });
      await this.deps.notifier.notify({ type: 'open', alertId: r.alertId, seq: r.seq, mention: 'oncall' });
      if (!('refused' in paged)) await this.deps.timers.schedule(r.alertId, 2, this.deps.policy.escalationRepeatS * 1000);
      return;
    }
    await this.deps.notifier.notify({ type: 'open', alertId: r.alertId, seq: r.seq });
    await this.deps.timers.schedule(r.alertId, 1, this.deps.policy.escalateAfterS * 1000);
  }

  private async unmuteIfSilenceEnded(alertId: string): Promise<void> {
    const alert = await this.store.get(alertId);
    if (!alert?.silenceId) return;
    const silence = await this.store.getSilence(alert.silenceId);
    if (silence && silence.until > Date.now()) return;
    const r = await this.store.change(alertId, 'unmute', 'xmsg', { note: `silence ${alert.silenceId} is over` });
    if ('refused' in r) return;
    await this.deps.notifier.notify({
      type: 'update',
      alertId,
      seq: r.seq,
      text: `Silence ${alert.silenceId} is over; the condition continues.`,
    });
    await this.deps.timers.schedule(alertId, alert.escalationLevel + 1, this.deps.policy.escalateAfterS * 1000);
  }

  private async followUp(event: MessageEvent, action: 'note' | 'promoted', text: string): Promise<void> {
    const alertId = await this.store.alertForMessage(event.message.id);
    if (!alertId) return; // the message never raised an alert (e.g. promoted before its deadline)
    const r = await this.change(alertId, action, 'xmsg', text, { eventId: event.id, messageId: event.message.id });
    if (r?.resolved) this.deps.log.info({ alertId }, 'alert resolved automatically');
  }

  private async change(
    alertId: string,
    action: 'note' | 'promoted' | 'recovered',
    who: string,
    text: string,
    o: { eventId: string; messageId?: string },
  ): Promise<ChangeResult | undefined> {
    const r = await this.store.change(alertId, action, who, { note: text, eventId: o.eventId, messageId: o.messageId });
    if ('refused' in r) return undefined;
    const full =
      r.resolved && action === 'promoted' ? `${text} Every message of this alert is cross-safe now: resolved automatically.` : text;
    await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text: full });
    return r;
  }

  private async onTimer(alertId: string, level: number): Promise<void> {
    const r = await this.store.change(alertId, 'timer', 'xmsg', { level });
    if ('refused' in r) return;
    const alert = await this.store.get(alertId);
    if (!alert) return;
    this.deps.metrics.escalations.inc({ kind: alert.kind });
    const waited = level === 1 ? this.deps.policy.escalateAfterS : this.deps.policy.escalationRepeatS;
    await this.deps.notifier.notify({
      type: 'update',
      alertId,
      seq: r.seq,
      text: `Not acknowledged for ${waited} s: paging on-call (level ${level}).`,
      mention: level >= 3 ? 'escalation' : 'oncall',
    });
    await this.deps.timers.schedule(alertId, level + 1, this.deps.policy.escalationRepeatS * 1000);
  }
}

export const dedupKey = (kind: AlertKind, chainId: number) => `${kind}-${chainId}`;

function summarize(m: MessageSnapshot): MessageSummary {
  return {
    id: m.id,
    executingChainId: m.chainId,
    blockNumber: m.blockNumber,
    blockHash: m.blockHash,
    txHash: m.txHash,
    logIndex: m.logIndex,
    msgHash: m.msgHash,
    identifier: m.identifier,
    status: m.status,
    reason: m.reason,
  };
}

function replacedText(e: MessageEvent): string {
  const m = e.message;
  return `Block ${m.blockNumber} (${short(m.blockHash)}) carrying invalid message ${short(m.msgHash)} was replaced${e.replacementBlockHash ? ` by ${short(e.replacementBlockHash)}` : ''}: the message is no longer canonical. Acknowledge or resolve when satisfied.`;
}

const short = (h: string) => `${h.slice(0, 10)}…`;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
