import type { Redis } from 'ioredis';
import { defineScript, loadScripts } from '../store/scripts.js';
import type { Alert, AlertKind, AlertState, AuditEntry, MessageSummary, Severity } from './model.js';

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
    /** Silences by end time. */
    silences: `${prefix}:silences`,
  };
}

/** What one applied change did: the alert, its new change number, and whether it was created or resolved by it. */
export interface ChangeResult {
  alertId: string;
  seq: number;
  created: boolean;
  resolved: boolean;
}

export interface Silence {
  id: string;
  matcher: 'chain' | 'origin' | 'kind' | 'alert';
  value: string;
  until: number;
  by: string;
  reason: string;
  createdAt: number;
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

const changeAlert = defineScript(lua('changeAlert-6.lua'), {
  keys: ['alert', 'audit', 'unresolved', 'appliedEvent', 'messages', 'dedup'],
  args: ['action', 'now', 'who', 'note', 'retentionS', 'silenceId', 'messageId', 'appliesEvent'],
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

export type ChangeAction = 'ack' | 'resolve' | 'escalate' | 'timer' | 'silence' | 'unmute' | 'promoted' | 'recovered' | 'note';

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
    options: { note?: string; eventId?: string; silenceId?: string; messageId?: string; level?: number; now?: number } = {},
  ): Promise<ChangeResult | { refused: string }> {
    const k = this.keys;
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
        note: action === 'timer' ? String(options.level ?? 1) : (options.note ?? ''),
        retentionS: this.retentionS,
        silenceId: options.silenceId ?? '',
        messageId: options.messageId ?? '',
        appliesEvent: Boolean(options.eventId),
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

  async alertForDedupKey(dedupKey: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.dedup(dedupKey))) ?? undefined;
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

  async addSilence(s: Omit<Silence, 'id'>): Promise<Silence> {
    const id = `S-${await this.redis.incr(this.keys.silenceSeq)}`;
    const silence: Silence = { id, ...s };
    const ttlS = Math.max(1, Math.ceil((s.until - Date.now()) / 1000) + this.retentionS);
    await this.redis
      .multi()
      .hset(this.keys.silence(id), { ...silence, until: String(s.until), createdAt: String(s.createdAt) })
      .expire(this.keys.silence(id), ttlS)
      .zadd(this.keys.silences, s.until, id)
      .exec();
    return silence;
  }

  /** Ends a silence now; false when there is no such active silence. */
  async endSilence(id: string, now = Date.now()): Promise<boolean> {
    const until = await this.redis.zscore(this.keys.silences, id);
    if (until === null || Number(until) <= now) return false;
    await this.redis.multi().zadd(this.keys.silences, now, id).hset(this.keys.silence(id), 'until', String(now)).exec();
    return true;
  }

  async activeSilences(now = Date.now()): Promise<Silence[]> {
    const ids = await this.redis.zrangebyscore(this.keys.silences, `(${now}`, '+inf');
    const all = await Promise.all(ids.map((id) => this.redis.hgetall(this.keys.silence(id))));
    return all.filter((s) => s.id).map(parseSilence);
  }

  async getSilence(id: string): Promise<Silence | undefined> {
    const raw = await this.redis.hgetall(this.keys.silence(id));
    return raw.id ? parseSilence(raw) : undefined;
  }
}

/** A script's result, "<alert id>|<seq>|<created>|<resolved>" (src/alerts/lua/includes/result.lua). */
function parseResult(raw: unknown): ChangeResult {
  const [alertId, seq, created, resolved] = String(raw).split('|');
  if (!alertId || !seq) throw new Error(`not an alert script result: ${String(raw)}`);
  return { alertId, seq: Number(seq), created: created === '1', resolved: resolved === '1' };
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
    until: Number(raw.until),
    by: raw.by ?? '',
    reason: raw.reason ?? '',
    createdAt: Number(raw.createdAt),
  };
}
