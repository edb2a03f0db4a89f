import { createHash } from 'node:crypto';
import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FailsafeAdmin } from '../chain/failsafe-admin.js';
import { firstLine } from '../errors.js';
import type { DomainEvent, EventHandler } from '../events/types.js';
import { type Metrics, observeJobs } from '../metrics.js';
import { MAX_STALLED_COUNT } from '../queues/defaults.js';
import { defineScript, loadScripts } from '../store/scripts.js';
import { type Actor, actorLabel } from './chat-port.js';
import type { AlertKind } from './model.js';
import type { Notifier } from './notifier.js';
import type { AlertStore } from './store.js';

/**
 * The interop failsafe from the alert's thread (DESIGN.md §1: "consider the failsafe (two-person rule)"). With it on,
 * op-interop-filter refuses every executing message at ingress: it stops interop for the whole cluster, so no single
 * person, replayed request or crashed replica may flip it.
 *
 * - Two people: a request of one on-call member waits for a second, different one to confirm within the window
 *   (XMSG_FAILSAFE_CONFIRM_S); each vote is one Lua state change (lua/failsafeVote-5.lua).
 * - Exactly one call per endpoint: a confirmed request is put in a dispatch set by the same script; from there one
 *   BullMQ job per endpoint is queued under the id failsafe-<request>-<endpoint> (by the confirming replica at once,
 *   or by any replica's watch, should that one die first). The job reads the state first, calls
 *   admin_setFailsafeEnabled only when the state differs, reads it back, and records the result: run again (retried,
 *   or taken over from a killed replica) it finds the state set and does not call again.
 * - Watched: every endpoint is polled; a change no request of xmsg explains is posted in the channel.
 */

export type FailsafeAction = 'on' | 'off';

/** The alert kinds whose root offers "Enable failsafe" (DESIGN.md §3: on consensus-bug kinds). */
export const FAILSAFE_KINDS: ReadonlySet<AlertKind> = new Set(['cross_safety_violation', 'status_flip']);

export interface FailsafeSettings {
  /** How long a request waits for its confirmation. */
  confirmMs: number;
  /** XMSG_FAILSAFE_AUTO=violation: a cross-safety violation enables the failsafe at once. */
  auto: boolean;
  /** How often each endpoint's state is read. */
  pollMs: number;
  /** Between two attempts of a failed call. */
  retryDelayMs: number;
  /** Attempts of one endpoint's call before it is reported as given up. */
  attempts: number;
  /** How long requests and their audit are kept (the alert retention). */
  retentionS: number;
}

export const FAILSAFE_DEFAULTS = { pollMs: 5000, retryDelayMs: 3000, attempts: 100 } as const;

export interface FailsafeDeps {
  admins: FailsafeAdmin[];
  redis: Redis;
  connection: ConnectionOptions;
  prefix: string;
  alerts: AlertStore;
  notifier: Notifier;
  metrics: Metrics;
  log: Logger;
}

/** One endpoint as last read: on, off, or unknown (never read, or its last read failed). */
export interface FailsafeEndpointState {
  endpoint: string;
  enabled?: boolean;
  /** Why its last read failed. */
  error?: string;
  /** When it was last read successfully (ms). */
  at?: number;
}

export interface FailsafeRequest {
  id: string;
  action: FailsafeAction;
  status: 'pending' | 'confirmed' | 'expired';
  requester: string;
  requesterName: string;
  reason: string;
  alertId: string;
  createdAt: number;
  expiresAt: number;
  confirmerName?: string;
}

/** What one endpoint's call did, as recorded in its request. */
interface CallResult {
  ok: boolean;
  enabled?: boolean;
  /** Whether this request called admin_setFailsafeEnabled on it (false: the state already was the wanted one). */
  called?: boolean;
  error?: string;
  at: number;
}

interface CallJob {
  requestId: string;
  endpoint: number;
}

export type FailsafeOutcome = { ok: boolean; text: string };

const vote = defineScript(new URL('./lua/failsafeVote-5.lua', import.meta.url), {
  keys: ['pending', 'request', 'seq', 'dispatch', 'expired'],
  args: ['op', 'action', 'now', 'windowMs', 'voter', 'voterName', 'reason', 'alertId', 'readPending', 'requestId', 'retentionS'],
  reply: (raw): { outcome: string; id: string } | 'moved' => {
    if (raw === -1) return 'moved';
    const [outcome = '', id = ''] = String(raw).split('|');
    return { outcome, id };
  },
});

export function failsafeKeys(prefix: string) {
  const p = `${prefix}:failsafe`;
  return {
    seq: `${p}:seq`,
    pending: (action: FailsafeAction) => `${p}:pending:${action}`,
    expired: (action: FailsafeAction) => `${p}:expired:${action}`,
    request: (id: string) => `${p}:req:${id}`,
    dispatch: `${p}:dispatch`,
    /** The failsafe's own audit trail: every request, vote, refusal, call and result, with or without an alert. */
    audit: `${p}:audit`,
    /** An audit entry written once (a retried job tells the same thing once). */
    told: (key: string) => `${p}:told:${key}`,
    /** Each endpoint's state as last read: '1' or '0'. */
    observed: (endpoint: string) => `${p}:observed:${endpoint}`,
    observedAt: (endpoint: string) => `${p}:observed-at:${endpoint}`,
    readError: (endpoint: string) => `${p}:read-error:${endpoint}`,
    /** The state a call of xmsg is setting on an endpoint: the watch does not report it as a change made outside. */
    expected: (endpoint: string) => `${p}:expected:${endpoint}`,
  };
}

/** Audit entries kept in the failsafe's own trail. */
const AUDIT_KEPT = 500;
/** How long a call's expected state shields it from being reported as a change made outside xmsg. */
const EXPECTED_MS = 120_000;
const MAX_ATTEMPTS_READ = 20;
const WORD: Record<FailsafeAction, string> = { on: 'enable', off: 'disable' };
const STATE: Record<FailsafeAction, string> = { on: 'enabled', off: 'disabled' };
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export class Failsafe implements EventHandler {
  readonly keys: ReturnType<typeof failsafeKeys>;
  readonly queue: Queue<CallJob>;
  private worker?: Worker<CallJob>;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly deps: FailsafeDeps,
    private readonly settings: FailsafeSettings,
  ) {
    loadScripts(deps.redis);
    this.keys = failsafeKeys(deps.prefix);
    this.queue = new Queue<CallJob>('failsafe', {
      connection: deps.connection,
      prefix: deps.prefix,
      defaultJobOptions: {
        attempts: settings.attempts,
        backoff: { type: 'fixed', delay: settings.retryDelayMs },
        removeOnComplete: { age: 7 * 86_400 },
        removeOnFail: { age: 30 * 86_400 },
      },
    });
    deps.metrics.readFailsafeFrom(async () => {
      const states = await this.states();
      return Object.fromEntries(states.flatMap((s) => (s.enabled === undefined ? [] : [[s.endpoint, s.enabled ? 1 : 0]])));
    });
  }

  get endpoints(): string[] {
    return this.deps.admins.map((a) => a.label);
  }

  start(): void {
    this.worker = new Worker<CallJob>('failsafe', (job) => this.call(job), {
      connection: this.deps.connection,
      prefix: this.deps.prefix,
      concurrency: 4,
      maxStalledCount: MAX_STALLED_COUNT,
      // A replica killed mid-call hands its job over within ~15 s (BullMQ's default would be ~60 s).
      lockDuration: 10_000,
      stalledInterval: 5000,
    });
    observeJobs(this.worker, this.deps.metrics, this.deps.log);
    const tick = () => {
      if (this.stopped) return;
      this.polling = this.poll()
        .catch((err: unknown) => this.deps.log.warn({ err: firstLine(err) }, 'failsafe watch failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.settings.pollMs);
        });
    };
    tick();
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await this.worker?.close();
    await this.queue.close();
  }

  // Operators' side: /xmsg failsafe on|off|status and the alert's "Enable failsafe" button.

  /** One on-call member's vote to turn the failsafe on or off: a request, or the confirmation of another's. */
  async vote(action: FailsafeAction, actor: Actor, reason: string, alertId?: string): Promise<FailsafeOutcome> {
    const who = actorLabel(actor);
    if (!actor.canAct) {
      const text = `${actor.name} may not ${WORD[action]} the failsafe: ${actor.refusal ?? 'only on-call members may'}. Nothing changed.`;
      await this.audit({ who, action: 'failsafe_refused', note: text, alertId });
      return { ok: false, text };
    }
    if (alertId && !(await this.deps.alerts.get(alertId)))
      return { ok: false, text: `No alert ${alertId} (unknown, or expired after its retention).` };
    const now = Date.now();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_READ; attempt++) {
      const [readPending, seq] = await this.deps.redis.mget(this.keys.pending(action), this.keys.seq);
      const requestId = readPending ?? `FS-${Number(seq ?? 0) + 1}`;
      const reply = await vote.run(this.deps.redis, {
        pending: this.keys.pending(action),
        request: this.keys.request(requestId),
        seq: this.keys.seq,
        dispatch: this.keys.dispatch,
        expired: this.keys.expired(action),
        op: 'vote',
        action,
        now,
        windowMs: this.settings.confirmMs,
        voter: `${actor.platform}:${actor.userId}`,
        voterName: who,
        reason,
        alertId: alertId ?? '',
        readPending: readPending ?? '',
        requestId,
        retentionS: this.settings.retentionS,
      });
      if (reply === 'moved') continue;
      const request = (await this.request(reply.id))!;
      return this.afterVote(reply.outcome, request, actor, reason);
    }
    throw new Error(`failsafe ${action}: the pending request kept moving for ${MAX_ATTEMPTS_READ} attempts`);
  }

  private async afterVote(outcome: string, r: FailsafeRequest, actor: Actor, words: string): Promise<FailsafeOutcome> {
    const who = actorLabel(actor);
    const deadline = iso(r.expiresAt);
    switch (outcome) {
      case 'requested': {
        const text = `Failsafe ${r.action.toUpperCase()} requested (${r.id}) by ${actor.name}: ${r.reason || 'no reason given'}. A second on-call member must confirm by ${deadline} with \`/xmsg failsafe ${r.action}${r.alertId ? ` ${r.alertId}` : ''} <reason>\`${r.action === 'on' && r.alertId ? ' or the Enable failsafe button' : ''}; nothing is called until then.`;
        await this.tell(r, 'requested', who, text);
        return { ok: true, text };
      }
      case 'refused': {
        const text = `${r.id}: you asked for it; a second, different on-call member must confirm (by ${deadline}). Nothing changed.`;
        await this.audit({
          who,
          action: 'failsafe_refused',
          note: `${actor.name} tried to confirm their own request ${r.id}: refused`,
          alertId: r.alertId,
        });
        return { ok: false, text };
      }
      case 'late':
      case 'expired': {
        const text = `${r.id} (failsafe ${r.action} by ${r.requesterName}) expired at ${deadline} without a confirmation: nothing was called. Ask again to start a new request.`;
        await this.tell(r, 'expired', 'xmsg', text);
        await this.audit({
          who,
          action: 'failsafe_refused',
          note: `${actor.name} confirmed ${r.id} after its window: refused`,
          alertId: r.alertId,
        });
        return { ok: false, text };
      }
      case 'confirmed': {
        const text = this.confirmedText(r, `${actor.name}${words && words !== r.reason ? ` (${words})` : ''}`);
        await this.tell(r, 'confirmed', who, text);
        await this.dispatch(r.id);
        return { ok: true, text };
      }
    }
    throw new Error(`failsafe vote: unexpected outcome ${outcome}`);
  }

  /** `/xmsg failsafe status`: each endpoint's state, and the requests waiting for a confirmation. */
  async status(): Promise<string> {
    const states = await this.states();
    const pending = (await Promise.all((['on', 'off'] as const).map((a) => this.pendingRequest(a)))).filter(
      (r): r is FailsafeRequest => r !== undefined,
    );
    return [
      ...states.map(stateLine),
      ...pending.map(
        (r) =>
          `${r.id}: failsafe ${r.action} requested by ${r.requesterName} (${r.reason || 'no reason'}), waiting for a second on-call member until ${iso(r.expiresAt)}`,
      ),
    ].join('\n');
  }

  /** Every endpoint as last read (Redis: the same on every replica). */
  async states(): Promise<FailsafeEndpointState[]> {
    const k = this.keys;
    const labels = this.endpoints;
    if (!labels.length) return [];
    const raw = await this.deps.redis.mget(labels.flatMap((l) => [k.observed(l), k.observedAt(l), k.readError(l)]));
    return labels.map((endpoint, i) => {
      const [observed, at, error] = [raw[3 * i], raw[3 * i + 1], raw[3 * i + 2]];
      return {
        endpoint,
        ...(observed === '1' || observed === '0' ? { enabled: observed === '1' } : {}),
        ...(at ? { at: Number(at) } : {}),
        ...(error ? { error } : {}),
      };
    });
  }

  /** XMSG_FAILSAFE_AUTO=violation: a cross-safety violation enables the failsafe at once, told in its alert's thread. */
  async onEvent(event: DomainEvent): Promise<void> {
    if (!this.settings.auto || event.type !== 'cross_safety_violation') return;
    const id = `FS-auto-${createHash('sha256').update(event.id).digest('hex').slice(0, 12)}`;
    const alertId = (await this.deps.alerts.alertForEvent(event.id)) ?? '';
    const reply = await vote.run(this.deps.redis, {
      pending: this.keys.pending('on'),
      request: this.keys.request(id),
      seq: this.keys.seq,
      dispatch: this.keys.dispatch,
      expired: this.keys.expired('on'),
      op: 'auto',
      action: 'on',
      now: Date.now(),
      windowMs: 0,
      voter: 'xmsg',
      voterName: 'xmsg (XMSG_FAILSAFE_AUTO=violation)',
      reason: `cross-safety violation ${event.id}`,
      alertId,
      readPending: id,
      requestId: id,
      retentionS: this.settings.retentionS,
    });
    if (reply === 'moved' || reply.outcome !== 'confirmed') return;
    const r = (await this.request(id))!;
    const text = `XMSG_FAILSAFE_AUTO=violation: enabling the interop failsafe at once (${id}) on ${this.endpoints.join(', ')}: every executing message is refused at ingress until two on-call members turn it off with \`/xmsg failsafe off <reason>\`.`;
    await this.tell(r, 'confirmed', 'xmsg', text);
    await this.dispatch(id);
  }

  // The calls: one job per endpoint per confirmed request.

  /** Queues the request's calls (job ids collapse a second dispatch), then takes it out of the dispatch set. */
  private async dispatch(requestId: string): Promise<void> {
    for (let endpoint = 0; endpoint < this.deps.admins.length; endpoint++) {
      await this.queue.add('call', { requestId, endpoint }, { jobId: `failsafe-${requestId}-${endpoint}` });
    }
    await this.deps.redis.zrem(this.keys.dispatch, requestId);
  }

  private async call(job: Job<CallJob>): Promise<void> {
    const { requestId, endpoint } = job.data;
    const admin = this.deps.admins[endpoint];
    const r = await this.request(requestId);
    if (!admin || !r || r.status !== 'confirmed') return;
    const resultField = `result:${admin.label}`;
    const recorded = await this.deps.redis.hget(this.keys.request(requestId), resultField);
    const done = recorded ? (JSON.parse(recorded) as CallResult) : undefined;
    // Done before, by this job on a replica that died before saying so (its job came back as stalled): said now, once.
    if (done?.ok) return this.tellResult(r, endpoint, admin.label, done.called === true);
    const want = r.action === 'on';
    const writeResult = (result: CallResult) => this.deps.redis.hset(this.keys.request(requestId), resultField, JSON.stringify(result));
    try {
      await this.deps.redis.set(this.keys.expected(admin.label), want ? '1' : '0', 'PX', EXPECTED_MS);
      // The state first: a job run again after its call (a retry, a replica killed after the call) does not call twice.
      const before = await admin.enabled();
      if (before !== want) await admin.setEnabled(want);
      const after = await admin.enabled();
      if (after !== want)
        throw new Error(`${admin.label} reads back ${after ? 'enabled' : 'disabled'} after admin_setFailsafeEnabled(${want})`);
      await writeResult({ ok: true, enabled: after, called: before !== want, at: Date.now() });
      await this.observe(admin.label, after);
      this.deps.log.warn({ requestId, endpoint: admin.label, enabled: after }, 'failsafe set');
      await this.tellResult(r, endpoint, admin.label, before !== want);
    } catch (err) {
      const error = firstLine(err);
      await writeResult({ ok: false, error, at: Date.now() });
      this.deps.log.error({ requestId, endpoint: admin.label, err: error, attempt: job.attemptsMade + 1 }, 'failsafe call failed');
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (last)
        await this.tell(
          r,
          `gave-up-${endpoint}`,
          'xmsg',
          `Failsafe ${r.action} (${r.id}) on ${admin.label}: GAVE UP after ${job.attemptsMade + 1} attempts (${error}). Its failsafe is NOT known to be ${STATE[r.action]}: set it by hand.`,
        );
      else
        await this.tell(
          r,
          `failed-${endpoint}`,
          'xmsg',
          `Failsafe ${r.action} (${r.id}) on ${admin.label}: FAILED (${error}); not done, retrying every ${Math.round(this.settings.retryDelayMs / 1000)} s.`,
        );
      throw err;
    }
  }

  // The watch, on every replica: each endpoint's state, changes made outside xmsg, requests whose window passed, and
  // dispatches a dead replica left behind.

  private async poll(): Promise<void> {
    // A confirmed request whose replica died before queueing its calls: queued here (the job ids collapse repeats),
    // after saying it was confirmed, which that replica may not have done (told once: tell's key).
    for (const id of await this.deps.redis.zrange(this.keys.dispatch, '0', '-1')) {
      const r = await this.request(id);
      if (r?.status === 'confirmed')
        await this.tell(r, 'confirmed', 'xmsg', this.confirmedText(r, r.confirmerName ?? 'a second on-call member'));
      await this.dispatch(id);
    }
    // A request whose window passed is expired and reported by whichever replica's watch sees it first.
    for (const action of ['on', 'off'] as const) await this.pendingRequest(action);
    await Promise.all(
      this.deps.admins.map(async (admin) => {
        try {
          await this.observe(admin.label, await admin.enabled());
        } catch (err) {
          await this.deps.redis.set(this.keys.readError(admin.label), firstLine(err), 'EX', 3600);
        }
      }),
    );
  }

  /** Records an endpoint's state; a change that no call of xmsg explains is posted in the channel, by one replica. */
  private async observe(endpoint: string, enabled: boolean): Promise<void> {
    const k = this.keys;
    const now = Date.now();
    const value = enabled ? '1' : '0';
    const [[, before], [, expected]] = (await this.deps.redis
      .multi()
      .set(k.observed(endpoint), value, 'GET')
      .get(k.expected(endpoint))
      .set(k.observedAt(endpoint), String(now))
      .del(k.readError(endpoint))
      .exec()) as [[null, string | null], [null, string | null], ...unknown[]];
    if (before === null || before === value || expected === value) return;
    const text = `The interop failsafe on ${endpoint} was ${enabled ? 'ENABLED' : 'disabled'} outside xmsg (it read ${before === '1' ? 'enabled' : 'disabled'} before, ${enabled ? 'enabled' : 'disabled'} at ${iso(now)}). ${enabled ? 'The filter refuses every executing message.' : 'Executing messages pass the filter again.'}`;
    this.deps.log.warn({ endpoint, enabled }, 'failsafe changed outside xmsg');
    await this.deps.notifier.announce({ id: `failsafe-outside-${endpoint}-${now}`, text });
    await this.audit({ who: 'xmsg', action: 'failsafe_outside', note: text });
  }

  /** Expires a request whose window passed without a confirmation, and says so where it was asked. */
  async expire(r: FailsafeRequest): Promise<void> {
    const reply = await vote.run(this.deps.redis, {
      pending: this.keys.pending(r.action),
      request: this.keys.request(r.id),
      seq: this.keys.seq,
      dispatch: this.keys.dispatch,
      expired: this.keys.expired(r.action),
      op: 'expire',
      action: r.action,
      now: Date.now(),
      windowMs: this.settings.confirmMs,
      voter: 'xmsg',
      voterName: 'xmsg',
      reason: '',
      alertId: '',
      readPending: r.id,
      requestId: r.id,
      retentionS: this.settings.retentionS,
    });
    if (reply === 'moved' || reply.outcome !== 'expired') return;
    await this.tell(
      r,
      'expired',
      'xmsg',
      `${r.id} (failsafe ${r.action} by ${r.requesterName}) expired at ${iso(r.expiresAt)} without a second on-call member's confirmation: nothing was called.`,
    );
  }

  // Reading and telling.

  async request(id: string): Promise<FailsafeRequest | undefined> {
    const raw = await this.deps.redis.hgetall(this.keys.request(id));
    if (!raw.id) return undefined;
    return {
      id: raw.id,
      action: raw.action as FailsafeAction,
      status: raw.status as FailsafeRequest['status'],
      requester: raw.requester ?? '',
      requesterName: raw.requesterName ?? '',
      reason: raw.reason ?? '',
      alertId: raw.alertId ?? '',
      createdAt: Number(raw.createdAt),
      expiresAt: Number(raw.expiresAt),
      ...(raw.confirmerName ? { confirmerName: raw.confirmerName } : {}),
    };
  }

  /** The pending request of an action, expired first when its window has passed (whoever asks next sees it gone). */
  private async pendingRequest(action: FailsafeAction): Promise<FailsafeRequest | undefined> {
    const id = await this.deps.redis.get(this.keys.pending(action));
    const r = id ? await this.request(id) : undefined;
    if (!r) return undefined;
    if (r.expiresAt <= Date.now()) {
      await this.expire(r);
      return undefined;
    }
    return r;
  }

  /** The failsafe's audit entries, oldest first. */
  async auditTrail(): Promise<Array<{ at: number; who: string; action: string; note: string; alertId?: string }>> {
    return (await this.deps.redis.lrange(this.keys.audit, 0, -1)).map((s) => JSON.parse(s));
  }

  private async audit(e: { who: string; action: string; note: string; alertId?: string }): Promise<void> {
    await this.deps.redis
      .multi()
      .rpush(this.keys.audit, JSON.stringify({ at: Date.now(), ...e }))
      .ltrim(this.keys.audit, -AUDIT_KEPT, -1)
      .exec();
    if (e.alertId) await this.deps.alerts.change(e.alertId, 'note', e.who, { note: e.note });
  }

  /**
   * Says one step of a request where people look: its alert's thread (and audit trail) when it names one, the channel,
   * and the failsafe's audit trail; each step once, however often a retried job or a second replica tells it.
   */
  /** What the channel, the audit and the alert's thread are told when a request is confirmed by `confirmer`. */
  private confirmedText(r: FailsafeRequest, confirmer: string): string {
    return `Failsafe ${r.action.toUpperCase()} (${r.id}) confirmed by ${confirmer}, requested by ${r.requesterName}: calling admin_setFailsafeEnabled(${r.action === 'on'}) on ${this.endpoints.join(', ')}.`;
  }

  /** One endpoint's call done and read back; `called`: this request changed it (else it already was so). */
  private tellResult(r: FailsafeRequest, endpoint: number, label: string, called: boolean): Promise<void> {
    const how = called ? `admin_setFailsafeEnabled(${r.action === 'on'}) done` : 'it already was when this call looked';
    return this.tell(
      r,
      `result-${endpoint}`,
      'xmsg',
      `Failsafe ${r.action} (${r.id}) on ${label}: ${STATE[r.action]}, read back with admin_getFailsafeEnabled (${how}).`,
    );
  }

  private async tell(r: FailsafeRequest, step: string, who: string, text: string): Promise<void> {
    const key = `${r.id}-${step}`;
    const first = await this.deps.redis.set(this.keys.told(key), '1', 'EX', this.settings.retentionS, 'NX');
    if (first)
      await this.deps.redis
        .multi()
        .rpush(
          this.keys.audit,
          JSON.stringify({
            at: Date.now(),
            who,
            action: `failsafe_${step.replace(/-\d+$/, '')}`,
            note: text,
            alertId: r.alertId || undefined,
          }),
        )
        .ltrim(this.keys.audit, -AUDIT_KEPT, -1)
        .exec();
    if (r.alertId) {
      const changed = await this.deps.alerts.change(r.alertId, 'note', who, { note: text, eventId: `failsafe-${key}` });
      if (!('refused' in changed)) await this.deps.notifier.notify({ type: 'update', alertId: r.alertId, seq: changed.seq, text });
    }
    await this.deps.notifier.announce({ id: `failsafe-${key}`, text });
  }
}

function stateLine(s: FailsafeEndpointState): string {
  const state = s.enabled === undefined ? 'unknown (not read yet)' : s.enabled ? 'ENABLED: executing messages are refused' : 'disabled';
  return `failsafe ${s.endpoint}: ${state}${s.error ? `; last read failed: ${s.error}` : ''}`;
}
