import type { Logger } from 'pino';
import {
  type ChainRescannedEvent,
  type DomainEvent,
  type EventHandler,
  isMessageEvent,
  type MessageEvent,
  type MessageSnapshot,
  type StateLostEvent,
} from '../events/types.js';
import type { Metrics } from '../metrics.js';
import { type Actor, actorLabel } from './chat-port.js';
import type { EscalationTimers } from './escalation.js';
import { describeTargets, type EscalationPolicy, type Ladder, nextStep, pagesAtOnce, stepTo } from './escalation-policy.js';
import { type Alert, type AlertKind, DEPLOYMENT_WIDE, KINDS, type MessageSummary } from './model.js';
import type { Notifier } from './notifier.js';
import type { SilenceTimers } from './silence-timers.js';
import { coveringSilence, matchingSilence, SILENCE_LIMITS, type Silence, silenceSubject } from './silences.js';
import type { AlertStore, ChangeResult } from './store.js';

export interface AlertPolicy {
  /** Occurrences of one condition within this window fold into one alert. */
  groupWindowS: number;
  /** Each kind's escalation ladder (src/alerts/escalation-policy.ts). */
  escalation: EscalationPolicy;
}

export interface AlertServiceDeps {
  store: AlertStore;
  /** The chat outbox: every change a thread must show goes there. */
  notifier: Notifier;
  timers: EscalationTimers;
  /** The silences' start and end jobs. */
  silenceTimers: SilenceTimers;
  policy: AlertPolicy;
  metrics: Metrics;
  log: Logger;
  /**
   * With XMSG_SUPERNODE_RPCS: what op-supernode says of a violation's block, beside the node's safe label
   * (src/chain/supernode.ts describeSecondOpinion), asked when the alert opens; it never fails.
   */
  secondOpinion?: (message: MessageSnapshot, nodeSafeHead: string | undefined) => Promise<string>;
}

export type Outcome = { ok: true; text: string } | { ok: false; text: string };

const MESSAGE_EVENT_KINDS: Partial<Record<DomainEvent['type'], AlertKind>> = {
  invalid_message: 'invalid_message',
  access_list_mismatch: 'access_list_mismatch',
  cross_safety_violation: 'cross_safety_violation',
  unpromoted: 'unpromoted',
  pending_timeout: 'pending_timeout',
  status_flip: 'status_flip',
  filter_divergence: 'filter_divergence',
};

/** Two presses of Escalate this close together raise one level: the second is refused, naming the first. */
const ESCALATE_DEBOUNCE_MS = 10_000;

/**
 * Kinds whose messages' blocks are expected to be replaced (DESIGN.md §1: "the thread follows whether the block is
 * replaced"): a replaced block settles the message, and the alert resolves itself once every block it covers is.
 */
const SETTLED_BY_REPLACEMENT: ReadonlySet<AlertKind> = new Set(['invalid_message', 'access_list_mismatch']);

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
    this.deps.timers.start((job, stepId) => this.onTimer(job.alertId, job.level, stepId));
    this.deps.silenceTimers.start(async ({ silenceId, edge }) => {
      if (edge === 'start') await this.onSilenceStart(silenceId);
      else await this.onSilenceEnd(silenceId);
    });
  }

  async onEvent(event: DomainEvent): Promise<void> {
    if (event.type === 'chain_unhealthy') {
      await this.open(event.id, 'chain_unhealthy', event.chainId, { detail: event.reason, groupWindowMs: 0 });
      return;
    }
    if (event.type === 'chain_unwatched') {
      await this.open(event.id, 'unwatched_chain', event.chainId, { detail: event.reason, groupWindowMs: 0 });
      return;
    }
    if (event.type === 'state_lost') {
      await this.open(event.id, 'state_lost', DEPLOYMENT_WIDE, { detail: stateLostText(event), groupWindowMs: 0 });
      return;
    }
    if (event.type === 'chain_rescanned') {
      // The state_lost event is published before any re-scan of its deployment, but the two may be handled at once.
      const alertId = await this.store.alertForEvent(`state_lost-${event.deploymentId}`);
      if (!alertId) throw new Error(`the state_lost alert of deployment ${event.deploymentId} is not open yet`);
      await this.change(alertId, 'note', 'xmsg', rescannedText(event), { eventId: event.id });
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
    this.countParity(event);
    if (kind) {
      await this.openForMessage(event, kind);
      return;
    }
    if (event.type === 'replaced') await this.onReplaced(event);
    if (event.type === 'reorged')
      await this.followUp(event, 'reorged', reorgedText(event), 'Every message of this alert is cross-safe or reorged out now');
    if (event.type === 'promoted')
      await this.followUp(
        event,
        'promoted',
        `Message ${short(event.message.msgHash)} in block ${event.message.blockNumber} is now cross-safe (safe head ${event.safeHead}).`,
        'Every message of this alert is cross-safe now',
      );
  }

  // Operator actions, shared by every chat platform through commands/.

  async ack(alertId: string, actor: Actor): Promise<Outcome> {
    const r = await this.act(alertId, 'ack', actor, `Acknowledged by ${actor.name}.`);
    if (r.ok) await this.cancelStep(alertId);
    return r;
  }

  async resolve(alertId: string, actor: Actor): Promise<Outcome> {
    const r = await this.act(alertId, 'resolve', actor, `Resolved by ${actor.name}.`);
    if (r.ok) await this.cancelStep(alertId);
    return r;
  }

  /**
   * Pages the next level of the alert's ladder now, and schedules the one after it: the ladder goes on from here.
   * Refused within a few seconds of the last escalation (two people pressing at once raise one level).
   */
  async escalate(alertId: string, actor: Actor): Promise<Outcome> {
    const before = await this.store.get(alertId);
    if (!before) return { ok: false, text: `${alertId}: unknown alert.` };
    const level = before.escalationLevel + 1;
    const pending = await this.store.pendingStep(alertId);
    const text = `Escalated by ${actor.name} (level ${level}).`;
    const r = await this.store.change(alertId, 'escalate', actorLabel(actor), { note: text, level, debounceMs: ESCALATE_DEBOUNCE_MS });
    if ('refused' in r) return { ok: false, text: `${alertId}: ${r.refused}.` };
    this.deps.metrics.alertChanges.inc({ kind: before.kind, action: 'escalate' });
    this.deps.metrics.escalations.inc({ kind: before.kind });
    const targets = stepTo(this.ladder(before.kind), level).targets;
    await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text, mention: targets });
    // The step that was pending is below the new level now and would be refused: the one after this level replaces it.
    if (pending) await this.deps.timers.cancel({ alertId, ...pending });
    await this.scheduleStep(alertId, before.kind, r);
    return { ok: true, text: `${alertId}: ${text}` };
  }

  // Silences. Each ends by itself at its end time (its end job, src/alerts/silence-timers.ts) or when lifted; the
  // unresolved alerts it muted are then posted, or told in their thread, and their escalation starts again. Every step
  // is idempotent (an event id per silence and alert), so the end job running twice or on two replicas, or a lift
  // racing it, unmutes each alert once with one reply.

  /** The alert's "Silence 1h" button and `/xmsg silence XM-7 …`: mutes that alert, and stops its escalation. */
  silenceAlert(alertId: string, durationMs: number, actor: Actor, reason = '', startsAt?: number): Promise<Outcome> {
    return this.silence({ matcher: 'alert', value: alertId }, { durationMs, startsAt }, reason, actor);
  }

  /**
   * A silence from now, or a maintenance window from `startsAt`: of one alert, or of new alerts on a chain, from an
   * origin or of a kind. Announced in the channel, like its start when it is scheduled and its end.
   */
  async silence(
    target: Pick<Silence, 'matcher' | 'value'>,
    window: { durationMs: number; startsAt?: number },
    reason: string,
    actor: Actor,
  ): Promise<Outcome> {
    const now = Date.now();
    const from = window.startsAt ?? now;
    const refusal =
      windowRefusal(from, window.durationMs, now) ?? (target.matcher === 'alert' ? await this.alertRefusal(target.value) : undefined);
    if (refusal) return { ok: false, text: refusal };
    const id = await this.store.newSilenceId();
    const until = from + window.durationMs;
    const silence: Silence = { id, ...target, from, until, by: actorLabel(actor), reason, createdAt: now, endedBy: '' };
    // Its end is queued before it is written: a silence that exists always ends.
    await this.deps.silenceTimers.schedule(silence, now);
    await this.store.addSilence(silence, now);
    this.deps.log.info({ silence }, 'silence added');
    await this.deps.notifier.announce({ id: `silence-${id}`, text: silenceAnnouncement(silence, now) });
    if (target.matcher === 'alert' && from <= now) {
      const muted = await this.muteAlert(silence);
      if (!muted.ok) return muted;
    }
    return { ok: true, text: silenceReply(silence, now) };
  }

  /** Why an alert cannot be silenced, if it cannot. */
  private async alertRefusal(alertId: string): Promise<string | undefined> {
    const alert = await this.store.get(alertId);
    if (!alert) return `No alert ${alertId}.`;
    if (alert.state === 'resolved') return `${alertId} cannot be silenced: already resolved.`;
    return undefined;
  }

  /** Lifts a silence now, or cancels a scheduled one; what it muted is live again at once. */
  async unsilence(silenceId: string, actor: Actor): Promise<Outcome> {
    if (!(await this.store.endSilence(silenceId, actorLabel(actor))))
      return { ok: false, text: `No active or scheduled silence ${silenceId}.` };
    this.deps.log.info({ silenceId, by: actorLabel(actor) }, 'silence lifted');
    // Its end job runs now too: what this call does not finish (its replica dies midway), the job does.
    await this.deps.silenceTimers.endNow(silenceId);
    const unmuted = await this.onSilenceEnd(silenceId);
    return { ok: true, text: `${silenceId} ended.${unmuted.length ? ` Live again: ${unmuted.join(', ')}.` : ''}` };
  }

  /** A scheduled silence's start: announced; a silence of one alert mutes it now. */
  private async onSilenceStart(silenceId: string): Promise<void> {
    const silence = await this.store.getSilence(silenceId);
    if (!silence || silence.until <= Date.now()) return; // lifted before it started
    await this.deps.notifier.announce({
      id: `silence-start-${silenceId}`,
      text: `Silence ${silenceId} is now in effect: ${silenceSubject(silence)} muted until ${iso(silence.until)} (by ${silence.by}${silence.reason ? `: ${silence.reason}` : ''}).`,
    });
    if (silence.matcher === 'alert') await this.muteAlert(silence);
  }

  /** A silence's end, at its end time or lifted: unmutes what it muted, then announces it. Returns the alerts unmuted. */
  private async onSilenceEnd(silenceId: string): Promise<string[]> {
    const silence = await this.store.getSilence(silenceId);
    // A job that fires before the end time (another replica's clock) is retried by BullMQ until the time has come.
    if (silence && silence.until > Date.now()) throw new Error(`silence ${silenceId} ends at ${iso(silence.until)}, not yet`);
    const unmuted: string[] = [];
    for (const alertId of await this.store.mutedBy(silenceId)) if (await this.unmute(alertId, silenceId, silence)) unmuted.push(alertId);
    if (silence) {
      const how = silence.endedBy ? `lifted by ${silence.endedBy}` : 'over: its end time has come';
      await this.deps.notifier.announce({
        id: `silence-end-${silenceId}`,
        text: `Silence ${silenceId} (${silenceSubject(silence)}) is ${how}. The unresolved alerts it muted are live again, unless another silence still covers them.`,
      });
    }
    this.deps.log.info({ silenceId, unmuted }, 'silence ended');
    return unmuted;
  }

  /** Mutes the alert of an `alert` silence and stops its escalation. */
  private async muteAlert(silence: Silence): Promise<Outcome> {
    const alertId = silence.value;
    const text = `Silenced until ${iso(silence.until)} by ${silence.by}${silence.reason ? `: ${silence.reason}` : ''} (${silence.id}).`;
    const r = await this.store.change(alertId, 'silence', silence.by, {
      silenceId: silence.id,
      note: text,
      eventId: `silence-start-${silence.id}`,
    });
    if ('refused' in r) return { ok: false, text: `${alertId} cannot be silenced: ${r.refused}.` };
    await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text });
    // Its next escalation step would find it muted; cancelled so that it does not wait in the queue.
    await this.cancelStep(alertId);
    // Lifted while this call was muting the alert: its end has looked for muted alerts already.
    await this.unmuteIfSilenceEnded(alertId);
    return { ok: true, text };
  }

  /** An alert whose silence has ended (or expired after its retention) but is still muted, e.g. muted as it ended. */
  private async unmuteIfSilenceEnded(alertId: string): Promise<void> {
    const alert = await this.store.get(alertId);
    if (!alert?.silenceId) return;
    const silence = await this.store.getSilence(alert.silenceId);
    if (silence && silence.until > Date.now()) return;
    await this.unmute(alertId, alert.silenceId, silence);
  }

  /**
   * Unmutes one alert after its silence ended: an alert muted from its opening (by a chain, origin or kind silence)
   * was never posted, so it is posted now; one silenced later gets a reply in its thread. Its escalation starts again
   * from now. An alert another silence still covers stays muted, by that one. False when the alert is not unmuted.
   */
  private async unmute(alertId: string, silenceId: string, silence: Silence | undefined): Promise<boolean> {
    const before = await this.store.get(alertId);
    if (!before) return false;
    const ended = silence?.endedBy ? `was lifted by ${silence.endedBy}` : 'is over';
    const still = before.state === 'resolved' ? undefined : await this.stillCovering(before);
    if (still) {
      await this.handOver(alertId, `Silence ${silenceId} ${ended}`, silenceId, still);
      return false;
    }
    const next = nextStep(this.ladder(before.kind), before.escalationLevel);
    const paging = before.state === 'open' ? ` Not acknowledged: ${describeTargets(next.targets)} is paged in ${next.delayS} s.` : '';
    const text = `Silence ${silenceId} ${ended}: this alert is live again.${paging}`;
    const r = await this.store.change(alertId, 'unmute', 'xmsg', { note: text, silenceId, eventId: `silence-end-${silenceId}-${alertId}` });
    if ('refused' in r) return false;
    const opened = silence !== undefined && silence.matcher !== 'alert';
    await this.deps.notifier.notify(opened ? { type: 'open', alertId, seq: r.seq } : { type: 'update', alertId, seq: r.seq, text });
    // The unmute set up the next step of an open alert: its escalation starts again from now.
    await this.scheduleStep(alertId, before.kind, r);
    return true;
  }

  /** The silence in effect that still covers the alert, besides the one that muted it (src/alerts/silences.ts). */
  private async stillCovering(alert: Alert): Promise<Silence | undefined> {
    const now = Date.now();
    const opening = alert.sample[0]?.identifier;
    return coveringSilence(
      await this.store.activeSilences(now),
      {
        id: alert.id,
        openedAt: alert.createdAt,
        kind: alert.kind,
        chainId: alert.chainId,
        sourceChainId: opening && Number(opening.chainId),
        origin: opening?.origin,
      },
      now,
    );
  }

  /**
   * The silence that muted the alert ended while `to` still covers it: `to` mutes it now, until it ends too. Once per
   * pair (its event id), and only while the ended one still mutes the alert, so that the end run twice, on two
   * replicas or racing a lift hands it over once.
   */
  private async handOver(alertId: string, endedText: string, from: string, to: Silence): Promise<void> {
    const text = `${endedText}, but ${to.id} (${silenceSubject(to)}) still mutes this alert until ${iso(to.until)}.`;
    const r = await this.store.change(alertId, 'silence', 'xmsg', {
      note: text,
      silenceId: to.id,
      takesOverFrom: from,
      eventId: `silence-end-${from}-${alertId}-${to.id}`,
    });
    if (!('refused' in r)) await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text });
    // `to` may have ended just now, its end finding no alert of it yet.
    await this.unmuteIfSilenceEnded(alertId);
  }

  private async act(alertId: string, action: 'ack' | 'resolve', actor: Actor, text: string): Promise<Outcome> {
    const r = await this.store.change(alertId, action, actorLabel(actor), { note: text });
    if ('refused' in r) return { ok: false, text: `${alertId}: ${r.refused}.` };
    const alert = await this.store.get(alertId);
    if (alert) this.deps.metrics.alertChanges.inc({ kind: alert.kind, action });
    await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text });
    return { ok: true, text: `${alertId}: ${text}` };
  }

  /** op-interop-mon's counters that xmsg's events mark (README, "op-interop-mon parity"). */
  private countParity(event: MessageEvent): void {
    const labels = { executing_chain_id: String(event.message.chainId), initiating_chain_id: String(event.message.identifier.chainId) };
    if (event.type === 'status_flip') this.deps.metrics.terminalStatusChanges.inc(labels);
    if (event.type === 'cross_safety_violation') this.deps.metrics.crossSafetyViolations.inc(labels);
  }

  private async openForMessage(event: MessageEvent, kind: AlertKind): Promise<void> {
    const m = event.message;
    let detail =
      event.type === 'status_flip'
        ? `${short(m.msgHash)} changed from ${event.previousStatus} to ${m.status}: ${m.reason}`
        : event.type === 'cross_safety_violation'
          ? `${short(m.msgHash)} (${m.status}: ${m.reason}) is in block ${m.blockNumber}${event.safeHead ? `, at or below the safe head ${event.safeHead}` : ', which is cross-safe'}`
          : event.type === 'filter_divergence'
            ? filterDivergenceText(event)
            : `${short(m.msgHash)}: ${m.status}: ${m.reason}`;
    // The second opinions also go into the sample's reason, which every platform shows in the root: the page itself
    // states what op-supernode (or op-interop-filter) says beside xmsg's own view.
    let secondOpinion = event.type === 'filter_divergence' ? detail : '';
    if (event.type === 'cross_safety_violation' && this.deps.secondOpinion)
      secondOpinion = await this.deps.secondOpinion(m, event.safeHead);
    if (event.type === 'cross_safety_violation' && secondOpinion) detail += ` ${secondOpinion}`;
    const summary = summarize(m);
    if (secondOpinion) summary.reason = `${summary.reason ? `${summary.reason}. ` : ''}${secondOpinion}`;
    await this.open(event.id, kind, m.chainId, {
      detail,
      sourceChainId: Number(m.identifier.chainId),
      summary,
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
    const now = Date.now();
    const subject = { kind, chainId, sourceChainId: o.sourceChainId, origin: o.origin };
    const silence = matchingSilence(await this.store.activeSilences(now), subject, now);
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
    if (silence) {
      // The silence may have ended since it was read, its end finding no alert of it yet: then this one is live now.
      await this.unmuteIfSilenceEnded(r.alertId);
      return;
    }
    const ladder = this.ladder(kind);
    if (pagesAtOnce(ladder)) {
      // The first post pages level 1; the ladder goes on from there.
      const { targets } = stepTo(ladder, 1);
      const note = `Paged ${describeTargets(targets)} in the first post (level 1).`;
      const paged = await this.store.change(r.alertId, 'timer', 'xmsg', { level: 1, note, eventId: `${eventId}-page` });
      this.deps.metrics.escalations.inc({ kind });
      await this.deps.notifier.notify({ type: 'open', alertId: r.alertId, seq: r.seq, mention: targets });
      if (!('refused' in paged)) await this.scheduleStep(r.alertId, kind, paged);
      return;
    }
    await this.deps.notifier.notify({ type: 'open', alertId: r.alertId, seq: r.seq });
    await this.scheduleStep(r.alertId, kind, r);
  }

  /** The block of an invalid message was replaced: the expected end of an alert of invalid messages, else a note. */
  private async onReplaced(event: MessageEvent): Promise<void> {
    const alertId = await this.store.alertForMessage(event.message.id);
    const alert = alertId ? await this.store.get(alertId) : undefined;
    if (!alert) return;
    const settles = SETTLED_BY_REPLACEMENT.has(alert.kind);
    await this.followUp(
      event,
      settles ? 'replaced' : 'note',
      replacedText(event, settles),
      'Every block replaced, as the protocol requires',
    );
  }

  /** A message's follow-up in the thread of the alert it raised; `resolution` says why, if the change resolves the alert. */
  private async followUp(
    event: MessageEvent,
    action: 'note' | 'promoted' | 'replaced' | 'reorged',
    text: string,
    resolution: string,
  ): Promise<void> {
    const alertId = await this.store.alertForMessage(event.message.id);
    if (!alertId) return; // the message never raised an alert (e.g. promoted before its deadline)
    await this.change(alertId, action, 'xmsg', text, { eventId: event.id, messageId: event.message.id, resolution });
  }

  /** An automatic change, told in the thread; one that resolves the alert also ends its escalation. */
  private async change(
    alertId: string,
    action: 'note' | 'promoted' | 'replaced' | 'reorged' | 'recovered',
    who: string,
    text: string,
    o: { eventId: string; messageId?: string; resolution?: string },
  ): Promise<ChangeResult | undefined> {
    const resolveNote = o.resolution ? `${o.resolution}: resolved automatically.` : undefined;
    const r = await this.store.change(alertId, action, who, { note: text, eventId: o.eventId, messageId: o.messageId, resolveNote });
    if ('refused' in r) return undefined;
    const full = r.resolved && resolveNote ? `${text} ${resolveNote}` : text;
    await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text: full });
    if (r.resolved) {
      this.deps.log.info({ alertId, action }, 'alert resolved automatically');
      await this.cancelStep(alertId);
    }
    return r;
  }

  /**
   * An escalation step is due. Its job id is the change's event id: a step run again after its change (its replica
   * died before the page was queued) gets the first result, and queues the same chat delivery and the same next step.
   */
  private async onTimer(alertId: string, level: number, stepId: string): Promise<void> {
    const alert = await this.store.get(alertId);
    if (!alert) return; // expired after its retention
    const step = stepTo(this.ladder(alert.kind), level);
    const text = `Not acknowledged for ${step.delayS} s: paging ${describeTargets(step.targets)} (level ${level}).`;
    const r = await this.store.change(alertId, 'timer', 'xmsg', { level, note: text, eventId: stepId });
    if ('refused' in r) {
      this.deps.log.debug({ alertId, level, stepId, refused: r.refused }, 'escalation step not taken');
      return;
    }
    this.deps.metrics.escalations.inc({ kind: alert.kind });
    await this.deps.notifier.notify({ type: 'update', alertId, seq: r.seq, text, mention: step.targets });
    await this.scheduleStep(alertId, alert.kind, r);
  }

  private ladder(kind: AlertKind): Ladder {
    return this.deps.policy.escalation[kind];
  }

  /** Schedules the escalation step a change set up (its result's next level), after that level's wait. */
  private async scheduleStep(alertId: string, kind: AlertKind, r: ChangeResult): Promise<void> {
    if (!r.nextLevel) return;
    const step = stepTo(this.ladder(kind), r.nextLevel);
    await this.deps.timers.schedule({ alertId, level: r.nextLevel, seq: r.seq }, step.delayS * 1000);
  }

  /** Cancels the alert's pending escalation step; best effort, as a step that runs anyway is refused. */
  private async cancelStep(alertId: string): Promise<void> {
    const step = await this.store.pendingStep(alertId);
    if (step) await this.deps.timers.cancel({ alertId, ...step });
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

function stateLostText(e: StateLostEvent): string {
  return `Redis no longer holds deployment ${e.lost.id} (started ${iso(e.lost.createdAt)}): its state was lost, and with it the chains' cursors, the tracked messages, every earlier alert and the silences. Now deployment ${e.deployment.id} (since ${iso(e.deployment.createdAt)}): alert numbers restart, and buttons of earlier alerts change nothing. Where each chain is re-scanned from follows in this thread.`;
}

function rescannedText(e: ChainRescannedEvent): string {
  return e.restored
    ? `Chain ${e.chainId} is re-scanned from block ${e.fromBlock}, the first block after the cursor a replica remembered: messages sent during the loss are checked.`
    : `Chain ${e.chainId}: no running replica remembered its cursor; it is followed from block ${e.fromBlock}, near the head. Earlier blocks not checked before the loss are not checked.`;
}

/** `settles`: the alert resolves itself once every block it covers is replaced; otherwise operators decide. */
function replacedText(e: MessageEvent, settles: boolean): string {
  const m = e.message;
  const by = e.replacementBlockHash ? ` by ${short(e.replacementBlockHash)}` : '';
  const next = settles ? '' : ' Acknowledge or resolve when satisfied.';
  return `Block ${m.blockNumber} (${short(m.blockHash)}) carrying invalid message ${short(m.msgHash)} was replaced${by}: the message is no longer canonical.${next}`;
}

function filterDivergenceText(e: MessageEvent): string {
  const m = e.message;
  const f = e.filter;
  const said = f?.status === 'invalid' ? `invalid (${f.message ?? 'error'}, code ${f.code ?? '?'})` : 'valid';
  return `${short(m.msgHash)} in block ${m.blockNumber}: xmsg says ${m.status}${m.reason ? ` (${m.reason})` : ''}; op-interop-filter ${f?.endpoint ?? ''} says ${said}.`;
}

function reorgedText(e: MessageEvent): string {
  const m = e.message;
  const now = e.replacementBlockHash ? ` (the block there is now ${short(e.replacementBlockHash)})` : '';
  return `Block ${m.blockNumber} (${short(m.blockHash)}) carrying message ${short(m.msgHash)} was reorged out${now}: the message is no longer canonical and will not be promoted.`;
}

/** Why a silence cannot have this window, if it cannot: it starts in the past, too far ahead, or lasts too long. */
function windowRefusal(from: number, durationMs: number, now: number): string | undefined {
  if (from < now) return `${iso(from)} is in the past: leave out \`at\` to start the silence now.`;
  if (from - now > SILENCE_LIMITS.maxLeadMs) return 'a silence starts at most 30 days from now.';
  if (!(durationMs > 0 && durationMs <= SILENCE_LIMITS.maxDurationMs)) return 'a silence lasts more than nothing and at most 30 days.';
  return undefined;
}

/** The answer to whoever made the silence. */
function silenceReply(s: Silence, now: number): string {
  const scheduled = s.from > now;
  if (s.matcher === 'alert')
    return scheduled
      ? `${s.value} will be silenced from ${iso(s.from)} until ${iso(s.until)} (${s.id}).`
      : `${s.value} silenced until ${iso(s.until)} (${s.id}).`;
  return scheduled
    ? `${s.id}: new alerts matching ${silenceSubject(s)} will be muted from ${iso(s.from)} until ${iso(s.until)}.`
    : `${s.id}: new alerts matching ${silenceSubject(s)} are muted until ${iso(s.until)}.`;
}

/** A new silence, as the channel hears of it: who, what, when and why. */
function silenceAnnouncement(s: Silence, now: number): string {
  const what = s.matcher === 'alert' ? `alert ${s.value}` : `new alerts matching ${silenceSubject(s)}`;
  const when = s.from > now ? `from ${iso(s.from)} until ${iso(s.until)}` : `until ${iso(s.until)}`;
  return `Silence ${s.id} by ${s.by}: ${what} muted ${when}${s.reason ? `. Reason: ${s.reason}` : ''}. End it early with \`/xmsg unsilence ${s.id}\`.`;
}

const short = (h: string) => `${h.slice(0, 10)}…`;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
