import type { Redis } from 'ioredis';
import { defineScript, loadScripts } from '../store/scripts.js';
import type { Alert, AlertKind, AlertState, AuditEntry, MessageSummary, Severity } from './model.js';
import { inEffect, type Silence } from './silences.js';

export type { Silence } from './silences.js';

export function alertKeys(prefix: string) {
  return {
    seq: `${prefix}:alert:seq`,
    alert: (id: string) => `${prefix}:alert:${id}`,
    audit: (id: string) => `${prefix}:alert:${id}:audit`,
    messages: (id: string) => `${prefix}:alert:${id}:msgs`,
    dedup: (key: string) => `${prefix}:alert:dedup:${key}`,
    byMessage: (messageId: string) => `${prefix}:alert:bymsg:${messageId}`,
    appliedEvent: (eventId: string) => `${prefix}:alert:ev:${eventId}`,
    /** Alerts not resolved yet; score = creation time. */
    unresolved: `${prefix}:alerts:unresolved`,
    /** Every alert still retained; score = creation time. */
    all: `${prefix}:alerts:all`,
    silenceSeq: `${prefix}:silence:seq`,
    silence: (id: string) => `${prefix}:silence:${id}`,
    /** Silences by end time; trimmed of those whose end is older than the retention. */
    silences: `${prefix}:silences`,
  };
}

/** What one applied change did: the alert, its new change number, and whether it was created or resolved by it. */
export interface ChangeResult {
  alertId: string;
  seq: number;
  created: boolean;
  resolved: boolean;
  /**
   * The escalation level the change set up as the alert's next step (src/alerts/lua/includes/steps.lua), for the caller
   * to schedule; 0 when the change set up none (the alert is acknowledged, muted, or the change does not escalate).
   */
  nextLevel: number;
}

// The alert scripts (src/alerts/lua/): each change to an alert is one of them, checked and applied at once.
const lua = (file: string) => new URL(`./lua/${file}`, import.meta.url);

/** A script's answer that what the caller read moved before the call: nothing was written, read again (see the headers). */
const MOVED = -1;

type OpenReply = ChangeResult | 'moved';
type ChangeReply = ChangeResult | { refused: string } | 'moved';

const openAlert = defineScript(lua('openAlert-11.lua'), {
  keys: [
    'dedup',
    'seq',
    'appliedEvent',
    'unresolved',
    'all',
    'byMessage',
    'currentAlert',
    'currentMessages',
    'nextAlert',
    'nextAudit',
    'nextMessages',
  ],
  args: [
    'now',
    'groupWindowMs',
    'kind',
    'severity',
    'title',
    'chainId',
    'sourceChainId',
    'summary',
    'detail',
    'messageId',
    'retentionS',
    'silenceId',
    'currentId',
    'seqRead',
  ],
  reply: (raw): OpenReply => (raw === MOVED ? 'moved' : parseResult(raw)),
});

const endSilence = defineScript(lua('endSilence-2.lua'), {
  keys: ['silence', 'silences'],
  args: ['now', 'who', 'keepUntil'],
  reply: (raw) => raw === 1,
});

const changeAlert = defineScript(lua('changeAlert-6.lua'), {
  keys: ['alert', 'audit', 'unresolved', 'appliedEvent', 'messages', 'dedup'],
  args: [
    'action',
    'now',
    'who',
    'note',
    'retentionS',
    'silenceId',
    'messageId',
    'appliesEvent',
    'level',
    'debounceMs',
    'vouched',
    'resolveNote',
    'takesOverFrom',
  ],
  reply: (raw): ChangeReply => {
    if (raw === MOVED) return 'moved';
    if (typeof raw === 'string' && raw.startsWith('refused|')) return { refused: raw.slice('refused|'.length) };
    return parseResult(raw);
  },
});

/**
 * How many times open or change read again after a script answered that what was read moved. Each retry follows
 * another writer's success (a new alert opened in between, by this replica's other workers or another replica's),
 * so it ends; the bound only turns a bug into an error instead of a loop.
 */
const MAX_ATTEMPTS = 100;

export type ChangeAction =
  | 'ack'
  | 'resolve'
  | 'escalate'
  | 'timer'
  | 'silence'
  | 'unmute'
  | 'promoted'
  | 'replaced'
  | 'reorged'
  | 'recovered'
  | 'note';

/** The actions that settle one of the alert's messages; the last one to settle resolves the alert. */
const SETTLING: ReadonlySet<ChangeAction> = new Set(['promoted', 'replaced', 'reorged']);

export interface ChangeOptions {
  /** The audit note. */
  note?: string;
  /** The event the change applies: applying it again returns the first result. */
  eventId?: string;
  silenceId?: string;
  /** The message that settled (promoted, replaced, reorged). */
  messageId?: string;
  /** The escalation level the change moves to (timer, escalate). */
  level?: number;
  /** escalate: refused this soon after the alert's last escalation. */
  debounceMs?: number;
  /** The audit note of the automatic resolution, if the change resolves the alert. */
  resolveNote?: string;
  /** silence: the ended silence this one takes over from; refused unless that one still mutes the alert. */
  takesOverFrom?: string;
  now?: number;
}

export interface OpenInput {
  eventId: string;
  dedupKey: string;
  kind: AlertKind;
  severity: Severity;
  title: string;
  chainId: number;
  sourceChainId?: number;
  summary?: MessageSummary;
  detail: string;
  messageId?: string;
  silenceId: string;
  /** Occurrences further apart than this open a new alert; 0 keeps folding while unresolved. */
  groupWindowMs: number;
}

/** Alerts, their audit trails and silences in Redis; every change is one Lua script. */
export class AlertStore {
  readonly keys: ReturnType<typeof alertKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionS: number,
  ) {
    loadScripts(redis);
    this.keys = alertKeys(prefix);
  }

  /**
   * Opens an alert for the occurrence, or folds it into the unresolved one of its dedup key. The dedup key and the
   * alert counter are read here so the script is told every key it may touch (src/alerts/lua/openAlert-11.lua).
   */
  async open(input: OpenInput, now = Date.now()): Promise<ChangeResult> {
    const k = this.keys;
    const dedup = k.dedup(input.dedupKey);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const [currentId, seqRead] = await this.redis.mget(dedup, k.seq);
      const nextId = `XM-${Number(seqRead ?? 0) + 1}`;
      const reply = await openAlert.run(this.redis, {
        dedup,
        seq: k.seq,
        appliedEvent: k.appliedEvent(input.eventId),
        unresolved: k.unresolved,
        all: k.all,
        // With no message or no current alert, the dedup key stands in for their keys: the script does not touch them.
        byMessage: input.messageId ? k.byMessage(input.messageId) : dedup,
        currentAlert: currentId ? k.alert(currentId) : dedup,
        currentMessages: currentId ? k.messages(currentId) : dedup,
        nextAlert: k.alert(nextId),
        nextAudit: k.audit(nextId),
        nextMessages: k.messages(nextId),
        now,
        groupWindowMs: input.groupWindowMs,
        kind: input.kind,
        severity: input.severity,
        title: input.title,
        chainId: input.chainId,
        sourceChainId: input.sourceChainId ?? '',
        summary: input.summary ? JSON.stringify(input.summary) : '',
        detail: input.detail,
        messageId: input.messageId ?? '',
        retentionS: this.retentionS,
        silenceId: input.silenceId,
        currentId: currentId ?? '',
        seqRead: seqRead ?? '0',
      });
      if (reply === 'moved') continue;
      // Keeps the index of all alerts bounded: older entries' alerts have expired after their retention.
      if (reply.created) await this.redis.zremrangebyscore(k.all, '-inf', now - this.retentionS * 1000);
      return reply;
    }
    throw new Error(`alert ${input.dedupKey}: what it read kept moving for ${MAX_ATTEMPTS} attempts to open or fold`);
  }

  /**
   * Applies an action; returns the result, or a refusal reason. With `eventId`, applying the same event twice
   * returns the first result (events are delivered at least once).
   */
  async change(
    alertId: string,
    action: ChangeAction,
    who: string,
    options: ChangeOptions = {},
  ): Promise<ChangeResult | { refused: string }> {
    const k = this.keys;
    // Past the alert's message id limit, the message's own index vouches that it is one of the alert's (lua/includes/messages.lua).
    const vouched = SETTLING.has(action) && options.messageId !== undefined && (await this.alertForMessage(options.messageId)) === alertId;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // The alert's dedup key, which a change that resolves it frees; without one (an unknown alert) the alert's own
      // key stands in, and the script does not touch it.
      const dedup = (await this.redis.hget(k.alert(alertId), 'dedupKey')) ?? k.alert(alertId);
      const reply = await changeAlert.run(this.redis, {
        alert: k.alert(alertId),
        audit: k.audit(alertId),
        unresolved: k.unresolved,
        appliedEvent: k.appliedEvent(options.eventId ?? 'none'),
        messages: k.messages(alertId),
        dedup,
        action,
        now: options.now ?? Date.now(),
        who,
        note: options.note ?? '',
        retentionS: this.retentionS,
        silenceId: options.silenceId ?? '',
        messageId: options.messageId ?? '',
        appliesEvent: Boolean(options.eventId),
        level: options.level ?? 0,
        debounceMs: options.debounceMs ?? 0,
        vouched,
        resolveNote: options.resolveNote ?? 'resolved automatically',
        takesOverFrom: options.takesOverFrom ?? '',
      });
      if (reply !== 'moved') return reply;
    }
    throw new Error(`alert ${alertId}: its dedup key could not be read under ${MAX_ATTEMPTS} attempts`);
  }

  async get(id: string): Promise<Alert | undefined> {
    const raw = await this.redis.hgetall(this.keys.alert(id));
    return raw.id ? parseAlert(raw) : undefined;
  }

  async audit(id: string): Promise<AuditEntry[]> {
    return (await this.redis.lrange(this.keys.audit(id), 0, -1)).map((s) => JSON.parse(s) as AuditEntry);
  }

  async alertForMessage(messageId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.byMessage(messageId))) ?? undefined;
  }

  /** The escalation step the alert's last escalating change set up (includes/steps.lua), for cancelling its timer. */
  async pendingStep(alertId: string): Promise<{ level: number; seq: number } | undefined> {
    const [level, seq] = ((await this.redis.hget(this.keys.alert(alertId), 'nextStep')) ?? '').split('-').map(Number);
    return level && seq ? { level, seq } : undefined;
  }

  async alertForDedupKey(dedupKey: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.dedup(dedupKey))) ?? undefined;
  }

  /** The alert an applied event opened or changed (kept a day, as the event's result); undefined before it is applied. */
  async alertForEvent(eventId: string): Promise<string | undefined> {
    const applied = await this.redis.get(this.keys.appliedEvent(eventId));
    return applied ? parseResult(applied).alertId : undefined;
  }

  /**
   * For each message, the retained alerts that list it among theirs (`…:alert:<id>:msgs`), oldest first. A scan of the
   * newest `limit` alerts, one SMISMEMBER each, in one pipelined round trip: for the operator API and `/xmsg status`,
   * not for a hot path.
   */
  async alertsOfMessages(messageIds: string[], limit = 10_000): Promise<Map<string, Array<{ id: string; kind: AlertKind }>>> {
    const found = new Map(messageIds.map((m) => [m, [] as Array<{ id: string; kind: AlertKind }>]));
    const ids = messageIds.length ? (await this.redis.zrevrange(this.keys.all, 0, limit - 1)).reverse() : [];
    if (!ids.length) return found;
    const read = this.redis.pipeline();
    for (const id of ids) read.smismember(this.keys.messages(id), ...messageIds).hget(this.keys.alert(id), 'kind');
    const replies = (await read.exec()) ?? [];
    ids.forEach((id, i) => {
      const [listed, kind] = [replies[2 * i]?.[1], replies[2 * i + 1]?.[1]];
      if (!Array.isArray(listed) || typeof kind !== 'string') return;
      messageIds.forEach((m, j) => {
        if (listed[j] === 1) found.get(m)!.push({ id, kind: kind as AlertKind });
      });
    });
    return found;
  }

  /** Newest first. Forgets ids whose alert has expired. */
  async list(which: 'unresolved' | 'all', limit = 50): Promise<Alert[]> {
    const key = which === 'unresolved' ? this.keys.unresolved : this.keys.all;
    const ids = await this.redis.zrevrange(key, 0, limit - 1);
    const alerts = await Promise.all(ids.map((id) => this.get(id)));
    const gone = ids.filter((_, i) => !alerts[i]);
    if (gone.length) await this.redis.zrem(key, ...gone);
    return alerts.filter((a): a is Alert => a !== undefined);
  }

  // Silences (docs/ARCHITECTURE.md §3, bounded memory): a silence is kept until its end plus the alert retention, as
  // long as the alerts it muted may be looked at; the index of silences forgets the ones past that.

  /** The next silence id, taken before the silence is written so that its end job can be queued first. */
  async newSilenceId(): Promise<string> {
    return `S-${await this.redis.incr(this.keys.silenceSeq)}`;
  }

  async addSilence(silence: Silence, now = Date.now()): Promise<void> {
    const k = this.keys;
    const keepMs = this.retentionS * 1000;
    const fields: Record<string, string> = {
      ...silence,
      from: String(silence.from),
      until: String(silence.until),
      createdAt: String(silence.createdAt),
    };
    await this.redis
      .multi()
      .hset(k.silence(silence.id), fields)
      .pexpireat(k.silence(silence.id), silence.until + keepMs)
      .zadd(k.silences, silence.until, silence.id)
      .zremrangebyscore(k.silences, '-inf', `(${now - keepMs}`)
      .exec();
  }

  /** Lifts a silence now; false when there is no such silence or it has ended (src/alerts/lua/endSilence-2.lua). */
  endSilence(id: string, who: string, now = Date.now()): Promise<boolean> {
    return endSilence.run(this.redis, {
      silence: this.keys.silence(id),
      silences: this.keys.silences,
      now,
      who,
      keepUntil: now + this.retentionS * 1000,
    });
  }

  /** The silences that mute at `now`. */
  async activeSilences(now = Date.now()): Promise<Silence[]> {
    return (await this.unendedSilences(now)).filter((s) => inEffect(s, now));
  }

  /** The silences in effect at `now` and the scheduled ones, by start. */
  async unendedSilences(now = Date.now()): Promise<Silence[]> {
    const ids = await this.redis.zrangebyscore(this.keys.silences, `(${now}`, '+inf');
    const all = await Promise.all(ids.map((id) => this.getSilence(id)));
    return all.filter((s): s is Silence => s !== undefined && s.until > now).sort((a, b) => a.from - b.from);
  }

  async getSilence(id: string): Promise<Silence | undefined> {
    const raw = await this.redis.hgetall(this.keys.silence(id));
    return raw.id ? parseSilence(raw) : undefined;
  }

  /** The unresolved alerts a silence mutes now: those whose `silenceId` is it. */
  async mutedBy(silenceId: string): Promise<string[]> {
    const ids = await this.redis.zrange(this.keys.unresolved, '0', '-1');
    const muting = await Promise.all(ids.map((id) => this.redis.hget(this.keys.alert(id), 'silenceId')));
    return ids.filter((_, i) => muting[i] === silenceId);
  }
}

/** A script's result, "<alert id>|<seq>|<created>|<resolved>|<next level>" (src/alerts/lua/includes/result.lua). */
function parseResult(raw: unknown): ChangeResult {
  // Results kept from before escalation steps (applied events are kept a day) have no next level.
  const [alertId, seq, created, resolved, nextLevel] = String(raw).split('|');
  if (!alertId || !seq) throw new Error(`not an alert script result: ${String(raw)}`);
  return { alertId, seq: Number(seq), created: created === '1', resolved: resolved === '1', nextLevel: Number(nextLevel ?? 0) };
}

function parseAlert(raw: Record<string, string>): Alert {
  return {
    id: raw.id!,
    kind: raw.kind as AlertKind,
    severity: raw.severity as Severity,
    state: raw.state as AlertState,
    dedupKey: raw.dedupKey ?? '',
    title: raw.title ?? '',
    count: Number(raw.count ?? 0),
    sample: JSON.parse(raw.sample ?? '[]') as MessageSummary[],
    chainId: Number(raw.chainId),
    sourceChainIds: JSON.parse(raw.sources ?? '[]') as number[],
    createdAt: Number(raw.createdAt),
    lastAt: Number(raw.lastAt ?? raw.createdAt),
    escalationLevel: Number(raw.escalationLevel ?? 0),
    silenceId: raw.silenceId ?? '',
    ackedBy: raw.ackedBy ?? '',
    resolvedBy: raw.resolvedBy ?? '',
    detail: raw.detail ?? '',
    seq: Number(raw.seq ?? 0),
  };
}

function parseSilence(raw: Record<string, string>): Silence {
  return {
    id: raw.id!,
    matcher: raw.matcher as Silence['matcher'],
    value: raw.value ?? '',
    // Silences written before maintenance windows existed started when they were made.
    from: Number(raw.from ?? raw.createdAt),
    until: Number(raw.until),
    by: raw.by ?? '',
    reason: raw.reason ?? '',
    createdAt: Number(raw.createdAt),
    endedBy: raw.endedBy ?? '',
  };
}
