import type { Redis } from 'ioredis';
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

const AUDIT = `
local function audit(key, at, who, action, note)
  redis.call('RPUSH', key, cjson.encode({ at = tonumber(at), who = who, action = action, note = note }))
end
`;

const RESULT = `
local function result(id, seq, created, resolved)
  return id .. '|' .. seq .. '|' .. created .. '|' .. resolved
end
`;

const scripts = {
  // Open a new alert for the dedup key, or fold the occurrence into the unresolved one (within the grouping window).
  // KEYS: seq, dedup, applied-event, unresolved, all; ARGV: event id, now, window ms (0 = no window), kind, severity,
  // title, chain id, source chain id, summary JSON or '', detail, message id or '', key prefix, retention s, silence id
  xmsgAlertOpen: {
    numberOfKeys: 5,
    lua: `${AUDIT}${RESULT}
local done = redis.call('GET', KEYS[3])
if done then return done end
local p = ARGV[12]
local now = tonumber(ARGV[2])
local id = redis.call('GET', KEYS[2])
local created = 0
if id then
  local a = p .. ':alert:' .. id
  local st = redis.call('HGET', a, 'state')
  local last = tonumber(redis.call('HGET', a, 'lastAt') or '0')
  if not st or st == 'resolved' or (tonumber(ARGV[3]) > 0 and now - last > tonumber(ARGV[3])) then id = nil end
end
if not id then
  id = 'XM-' .. redis.call('INCR', KEYS[1])
  local a = p .. ':alert:' .. id
  redis.call('HSET', a, 'id', id, 'kind', ARGV[4], 'severity', ARGV[5], 'state', 'open', 'dedupKey', KEYS[2],
    'title', ARGV[6], 'count', 0, 'sample', '[]', 'chainId', ARGV[7], 'sources', '[]', 'createdAt', ARGV[2],
    'escalationLevel', 0, 'silenceId', ARGV[14], 'ackedBy', '', 'resolvedBy', '', 'seq', 0)
  redis.call('SET', KEYS[2], id)
  redis.call('ZADD', KEYS[4], ARGV[2], id)
  redis.call('ZADD', KEYS[5], ARGV[2], id)
  audit(p .. ':alert:' .. id .. ':audit', ARGV[2], 'xmsg', 'opened', ARGV[10])
  created = 1
end
local a = p .. ':alert:' .. id
redis.call('HINCRBY', a, 'count', 1)
redis.call('HSET', a, 'lastAt', ARGV[2], 'detail', ARGV[10])
if ARGV[9] ~= '' then
  local sample = cjson.decode(redis.call('HGET', a, 'sample'))
  if #sample < 5 then
    table.insert(sample, cjson.decode(ARGV[9]))
    redis.call('HSET', a, 'sample', cjson.encode(sample))
  end
end
if ARGV[8] ~= '' then
  local sources = cjson.decode(redis.call('HGET', a, 'sources'))
  local known = false
  for _, s in ipairs(sources) do if tostring(s) == ARGV[8] then known = true end end
  if not known then table.insert(sources, tonumber(ARGV[8])); redis.call('HSET', a, 'sources', cjson.encode(sources)) end
end
if ARGV[11] ~= '' then
  redis.call('SADD', p .. ':alert:' .. id .. ':msgs', ARGV[11])
  redis.call('SET', p .. ':alert:bymsg:' .. ARGV[11], id, 'EX', ARGV[13])
end
local seq = redis.call('HINCRBY', a, 'seq', 1)
local r = result(id, seq, created, 0)
redis.call('SET', KEYS[3], r, 'EX', 86400)
return r`,
  },
  // A change to an existing alert: operator actions and follow-ups. Preconditions per action are checked here so
  // that two people pressing the same button at once make one change.
  // KEYS: alert, audit, unresolved, applied-event, msgs; ARGV: action, now, who, note (timer: level), retention s,
  // silence id, message id, '1' when the change applies an event (then applying it twice returns the first result)
  // Returns 'refused|<reason>' or a result.
  xmsgAlertChange: {
    numberOfKeys: 5,
    lua: `${AUDIT}${RESULT}
if ARGV[8] == '1' then
  local done = redis.call('GET', KEYS[4])
  if done then return done end
end
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'refused|unknown alert' end
local action = ARGV[1]
local resolved = 0
local function resolve(who)
  redis.call('HSET', KEYS[1], 'state', 'resolved', 'resolvedBy', who, 'resolvedAt', ARGV[2])
  redis.call('ZREM', KEYS[3], redis.call('HGET', KEYS[1], 'id'))
  local dedup = redis.call('HGET', KEYS[1], 'dedupKey')
  if redis.call('GET', dedup) == redis.call('HGET', KEYS[1], 'id') then redis.call('DEL', dedup) end
  for _, k in ipairs({ KEYS[1], KEYS[2], KEYS[5] }) do redis.call('EXPIRE', k, ARGV[5]) end
  resolved = 1
end
if action == 'ack' then
  if st == 'resolved' then return 'refused|already resolved' end
  if st == 'acknowledged' then return 'refused|already acknowledged by ' .. redis.call('HGET', KEYS[1], 'ackedBy') end
  redis.call('HSET', KEYS[1], 'state', 'acknowledged', 'ackedBy', ARGV[3])
elseif action == 'resolve' then
  if st == 'resolved' then return 'refused|already resolved by ' .. redis.call('HGET', KEYS[1], 'resolvedBy') end
  resolve(ARGV[3])
elseif action == 'escalate' then
  if st == 'resolved' then return 'refused|already resolved' end
  redis.call('HINCRBY', KEYS[1], 'escalationLevel', 1)
elseif action == 'timer' then
  -- An escalation timer fired: only an open, unmuted alert below that level escalates.
  if st ~= 'open' then return 'refused|' .. st end
  if redis.call('HGET', KEYS[1], 'silenceId') ~= '' then return 'refused|silenced' end
  if tonumber(redis.call('HGET', KEYS[1], 'escalationLevel')) >= tonumber(ARGV[4]) then return 'refused|already escalated' end
  redis.call('HSET', KEYS[1], 'escalationLevel', ARGV[4])
elseif action == 'silence' then
  if st == 'resolved' then return 'refused|already resolved' end
  redis.call('HSET', KEYS[1], 'silenceId', ARGV[6])
elseif action == 'unmute' then
  if redis.call('HGET', KEYS[1], 'silenceId') == '' then return 'refused|not silenced' end
  redis.call('HSET', KEYS[1], 'silenceId', '')
elseif action == 'promoted' then
  if redis.call('SREM', KEYS[5], ARGV[7]) == 0 then return 'refused|not part of this alert' end
  if st ~= 'resolved' and redis.call('SCARD', KEYS[5]) == 0 then resolve('xmsg') end
elseif action == 'recovered' then
  if st == 'resolved' then return 'refused|already resolved' end
  resolve('xmsg')
elseif action ~= 'note' then
  return 'refused|unknown action ' .. action
end
audit(KEYS[2], ARGV[2], ARGV[3], action, ARGV[4])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local r = result(redis.call('HGET', KEYS[1], 'id'), seq, 0, resolved)
if ARGV[8] == '1' then redis.call('SET', KEYS[4], r, 'EX', 86400) end
return r`,
  },
} as const;

type ScriptedRedis = Redis & Record<keyof typeof scripts, (...args: (string | number)[]) => Promise<string>>;

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
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly retentionS: number,
  ) {
    for (const [name, def] of Object.entries(scripts)) if (!(name in redis)) redis.defineCommand(name, def);
    this.redis = redis as ScriptedRedis;
    this.keys = alertKeys(prefix);
  }

  async open(input: OpenInput, now = Date.now()): Promise<ChangeResult> {
    const k = this.keys;
    const raw = await this.redis.xmsgAlertOpen(
      k.seq,
      k.dedup(input.dedupKey),
      k.appliedEvent(input.eventId),
      k.unresolved,
      k.all,
      input.eventId,
      now,
      input.groupWindowMs,
      input.kind,
      input.severity,
      input.title,
      input.chainId,
      input.sourceChainId ?? '',
      input.summary ? JSON.stringify(input.summary) : '',
      input.detail,
      input.messageId ?? '',
      this.prefix,
      this.retentionS,
      input.silenceId,
    );
    const result = parseResult(raw)!;
    // Keeps the index of all alerts bounded: older entries' alerts have expired after their retention.
    if (result.created) await this.redis.zremrangebyscore(k.all, '-inf', now - this.retentionS * 1000);
    return result;
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
    const raw = await this.redis.xmsgAlertChange(
      k.alert(alertId),
      k.audit(alertId),
      k.unresolved,
      k.appliedEvent(options.eventId ?? 'none'),
      k.messages(alertId),
      action,
      options.now ?? Date.now(),
      who,
      action === 'timer' ? String(options.level ?? 1) : (options.note ?? ''),
      this.retentionS,
      options.silenceId ?? '',
      options.messageId ?? '',
      options.eventId ? '1' : '0',
    );
    if (raw.startsWith('refused|')) return { refused: raw.slice('refused|'.length) };
    return parseResult(raw)!;
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

function parseResult(raw: string): ChangeResult | undefined {
  const [alertId, seq, created, resolved] = raw.split('|');
  if (!alertId || !seq) return undefined;
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
