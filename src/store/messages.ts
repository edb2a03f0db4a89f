import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import type { Identifier } from '../chain/inbox.js';
import { isSettled, type ValidityStatus } from '../chain/validity.js';
import type { ChainLog } from '../chain/rpc.js';
import { keys, messageId, shortId, type Keys } from './keys.js';

/** Where a tracked message's executing block stands. The last three end tracking. */
export type Safety = 'unsafe' | 'cross-safe' | 'replaced' | 'reorged' | 'finalized';

/** What the watcher knows of an executing message; never changes once seen. */
export interface MessageData {
  id: string;
  chainId: number;
  blockNumber: string;
  blockHash: Hex;
  blockTimestamp: string;
  txHash: Hex;
  logIndex: number;
  msgHash: Hex;
  identifier: { origin: Hex; blockNumber: string; logIndex: string; timestamp: string; chainId: string };
  /** When the watcher first saw it, ms since epoch. */
  seenAt: number;
}

export interface HistoryEntry {
  at: number;
  what: string;
}

export interface MessageRecord {
  data: MessageData;
  status: ValidityStatus;
  reason: string;
  safety: Safety;
  history: HistoryEntry[];
  marks: MessageMark[];
}

/** Facts remembered about a message besides its status, e.g. that it was reported unpromoted. */
export type MessageMark = 'unpromoted' | 'pending_timeout';

/** The record data of an ExecutingMessage log, as the watcher and on-demand lookups build it. */
export function messageDataOf(
  chainId: number,
  log: ChainLog,
  decoded: { msgHash: Hex; identifier: Identifier },
  blockTimestamp: bigint,
  seenAt: number,
): MessageData {
  const { identifier } = decoded;
  return {
    id: messageId(chainId, log.blockHash, Number(log.logIndex)),
    chainId,
    blockNumber: String(log.blockNumber),
    blockHash: log.blockHash,
    blockTimestamp: String(blockTimestamp),
    txHash: log.transactionHash,
    logIndex: Number(log.logIndex),
    msgHash: decoded.msgHash,
    identifier: {
      origin: identifier.origin,
      blockNumber: String(identifier.blockNumber),
      logIndex: String(identifier.logIndex),
      timestamp: String(identifier.timestamp),
      chainId: String(identifier.chainId),
    },
    seenAt,
  };
}

export function identifierOf(data: MessageData): Identifier {
  const id = data.identifier;
  return {
    origin: id.origin,
    blockNumber: BigInt(id.blockNumber),
    logIndex: BigInt(id.logIndex),
    timestamp: BigInt(id.timestamp),
    chainId: BigInt(id.chainId),
  };
}

const APPEND_HISTORY = `
local function append_history(rec, entry)
  local h = redis.call('HGET', rec, 'h')
  if not h or h == '' or h == '[]' then h = '[' .. entry .. ']' else h = string.sub(h, 1, -2) .. ',' .. entry .. ']' end
  redis.call('HSET', rec, 'h', h)
end
`;

/** Common tail of create and status change: a settled message joins its chain's pending set (and deadline). */
const SETTLE = `
local function settle(rec, pending, deadlines, short, blockNumber, deadline)
  if redis.call('HGET', rec, 'sf') ~= 'unsafe' then return end
  redis.call('ZADD', pending, blockNumber, short)
  if deadline ~= '' then redis.call('ZADD', deadlines, 'NX', deadline, short) end
end
`;

const scripts = {
  // KEYS: rec, byHash, bySource, stats, pending, deadlines
  // ARGV: data, status, reason, history entry, stats field, short id, source block, settled, exec block, deadline
  xmsgCreate: {
    numberOfKeys: 6,
    lua: `${APPEND_HISTORY}${SETTLE}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'st', ARGV[2], 'rs', ARGV[3], 'sf', 'unsafe')
append_history(KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[6])
redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
if ARGV[8] == '1' then settle(KEYS[1], KEYS[5], KEYS[6], ARGV[6], ARGV[9], ARGV[10]) end
return 1`,
  },
  // KEYS: rec, stats, pending, deadlines
  // ARGV: new status, reason, history entry, old stats field, new stats field, short id, settled, exec block, deadline
  // Returns the previous status, or false when the record is gone.
  xmsgSetStatus: {
    numberOfKeys: 4,
    lua: `${APPEND_HISTORY}${SETTLE}
local cur = redis.call('HGET', KEYS[1], 'st')
if not cur then return false end
redis.call('HSET', KEYS[1], 'rs', ARGV[2])
if cur ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'st', ARGV[1])
  append_history(KEYS[1], ARGV[3])
  redis.call('HINCRBY', KEYS[2], ARGV[4], -1)
  redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
end
if ARGV[7] == '1' then settle(KEYS[1], KEYS[3], KEYS[4], ARGV[6], ARGV[8], ARGV[9]) end
return cur`,
  },
  // KEYS: rec, pending, safe, deadlines
  // ARGV: short id, exec block, history entry. Returns 1 when it moved from unsafe to cross-safe.
  xmsgPromote: {
    numberOfKeys: 4,
    lua: `${APPEND_HISTORY}
if redis.call('HGET', KEYS[1], 'sf') ~= 'unsafe' then return 0 end
redis.call('HSET', KEYS[1], 'sf', 'cross-safe')
append_history(KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1`,
  },
  // KEYS: rec, pending, safe, deadlines, bySource, stats, expiring, byHash
  // ARGV: short id, new safety, history entry, stats field, delete-at ms (0 = delete now)
  // Returns 1 when this call ended the tracking.
  xmsgDrop: {
    numberOfKeys: 8,
    lua: `${APPEND_HISTORY}
local sf = redis.call('HGET', KEYS[1], 'sf')
if sf ~= 'unsafe' and sf ~= 'cross-safe' then return 0 end
for i = 2, 5 do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('HINCRBY', KEYS[6], ARGV[4], -1)
if ARGV[5] == '0' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[8], ARGV[1])
else
  redis.call('HSET', KEYS[1], 'sf', ARGV[2])
  append_history(KEYS[1], ARGV[3])
  redis.call('ZADD', KEYS[7], ARGV[5], ARGV[1])
end
return 1`,
  },
  // KEYS: rec; ARGV: mark, history entry. Returns 1 the first time the mark is set.
  xmsgMark: {
    numberOfKeys: 1,
    lua: `${APPEND_HISTORY}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'mk:' .. ARGV[1], '1') == 0 then return 0 end
append_history(KEYS[1], ARGV[2])
return 1`,
  },
  // KEYS: expiring; ARGV: now ms, limit, key prefix. Deletes dropped records whose retention ended.
  xmsgCollect: {
    numberOfKeys: 1,
    lua: `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, short in ipairs(due) do
  local rec = ARGV[3] .. ':m:' .. short
  local d = redis.call('HGET', rec, 'd')
  if d then
    local msgHash = string.lower(cjson.decode(d).msgHash)
    redis.call('SREM', ARGV[3] .. ':h:' .. msgHash, short)
  end
  redis.call('DEL', rec)
  redis.call('ZREM', KEYS[1], short)
end
return #due`,
  },
} as const;

type ScriptName = keyof typeof scripts;
type ScriptedRedis = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

export function installScripts(redis: Redis): ScriptedRedis {
  for (const [name, def] of Object.entries(scripts)) {
    if (!(name in redis)) redis.defineCommand(name, def);
  }
  return redis as ScriptedRedis;
}

const entry = (what: string, at = Date.now()) => JSON.stringify({ at, what } satisfies HistoryEntry);
const statusField = (d: MessageData, status: ValidityStatus) => `${d.chainId}|${d.identifier.chainId}|${status}`;

/**
 * The tracked executing messages in Redis. Every change is one Lua script, so concurrent replicas and retried
 * jobs cannot interleave half-done updates, and each transition reports whether this caller made it.
 */
export class MessageStore {
  readonly keys: Keys;
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    readonly prefix: string,
    private readonly droppedRetentionS: number,
  ) {
    this.redis = installScripts(redis);
    this.keys = keys(prefix);
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    return this.getByShort(shortId(id));
  }

  private async getByShort(short: string): Promise<MessageRecord | undefined> {
    const raw = await this.redis.hgetall(this.keys.message(short));
    return raw.d ? parseRecord(raw) : undefined;
  }

  async getMany(shorts: string[]): Promise<Map<string, MessageRecord>> {
    const result = new Map<string, MessageRecord>();
    if (!shorts.length) return result;
    const pipeline = this.redis.pipeline();
    for (const s of shorts) pipeline.hgetall(this.keys.message(s));
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([err, raw], i) => {
      const rec = raw as Record<string, string> | null;
      if (!err && rec?.d) result.set(shorts[i]!, parseRecord(rec));
    });
    return result;
  }

  async byMsgHash(msgHash: Hex): Promise<MessageRecord[]> {
    const shorts = await this.redis.smembers(this.keys.byMsgHash(msgHash));
    const records = await this.getMany(shorts);
    return [...records.values()].sort((a, b) => a.data.seenAt - b.data.seenAt);
  }

  /** Creates the record; false when it already existed (a retried or duplicated job). */
  async create(data: MessageData, status: ValidityStatus, reason: string, deadlineAt: number): Promise<boolean> {
    const short = shortId(data.id);
    const created = await this.redis.xmsgCreate(
      this.keys.message(short),
      this.keys.byMsgHash(data.msgHash),
      this.keys.bySource(Number(data.identifier.chainId)),
      this.keys.statusCounts,
      this.keys.pending(data.chainId),
      this.keys.deadlines(data.chainId),
      JSON.stringify(data),
      status,
      reason,
      entry(`status ${status}: ${reason}`),
      statusField(data, status),
      short,
      data.identifier.blockNumber,
      isSettled(status) ? '1' : '0',
      data.blockNumber,
      status === 'valid' ? deadlineAt : '',
    );
    return created === 1;
  }

  /** Sets the validity status; returns the previous one (undefined if the record is gone). */
  async setStatus(
    data: MessageData,
    previous: ValidityStatus,
    status: ValidityStatus,
    reason: string,
    deadlineAt: number,
  ): Promise<ValidityStatus | undefined> {
    const short = shortId(data.id);
    const before = await this.redis.xmsgSetStatus(
      this.keys.message(short),
      this.keys.statusCounts,
      this.keys.pending(data.chainId),
      this.keys.deadlines(data.chainId),
      status,
      reason,
      entry(`status ${status}: ${reason}`),
      statusField(data, previous),
      statusField(data, status),
      short,
      isSettled(status) ? '1' : '0',
      data.blockNumber,
      status === 'valid' ? deadlineAt : '',
    );
    return (before ?? undefined) as ValidityStatus | undefined;
  }

  async promote(data: MessageData, safeHead: bigint): Promise<boolean> {
    const short = shortId(data.id);
    const moved = await this.redis.xmsgPromote(
      this.keys.message(short),
      this.keys.pending(data.chainId),
      this.keys.safe(data.chainId),
      this.keys.deadlines(data.chainId),
      short,
      data.blockNumber,
      entry(`safety cross-safe (safe head ${safeHead})`),
    );
    return moved === 1;
  }

  /** Ends tracking. Finalized messages are deleted at once; replaced or reorged ones are kept a while for operators. */
  async drop(record: MessageRecord, safety: 'replaced' | 'reorged' | 'finalized', note: string): Promise<boolean> {
    const d = record.data;
    const short = shortId(d.id);
    const deleteAt = safety === 'finalized' ? 0 : Date.now() + this.droppedRetentionS * 1000;
    const dropped = await this.redis.xmsgDrop(
      this.keys.message(short),
      this.keys.pending(d.chainId),
      this.keys.safe(d.chainId),
      this.keys.deadlines(d.chainId),
      this.keys.bySource(Number(d.identifier.chainId)),
      this.keys.statusCounts,
      this.keys.expiring,
      this.keys.byMsgHash(d.msgHash),
      short,
      safety,
      entry(`safety ${safety}: ${note}`),
      statusField(d, record.status),
      deleteAt,
    );
    return dropped === 1;
  }

  /** Sets a mark; true for the one caller that set it first. */
  async mark(id: string, mark: MessageMark, note: string): Promise<boolean> {
    return (await this.redis.xmsgMark(this.keys.message(shortId(id)), mark, entry(`${mark}: ${note}`))) === 1;
  }

  /** Short ids in one of a chain's indexes with a score up to `max` (inclusive), oldest first. */
  async indexUpTo(index: 'pending' | 'safe' | 'deadlines' | 'bySource', chainId: number, max: bigint | number, limit = 5000) {
    return this.redis.zrangebyscore(this.keys[index](chainId), '-inf', String(max), 'LIMIT', 0, limit);
  }

  /** Short ids in one of a chain's indexes with a score above `min` (exclusive). */
  async indexAbove(index: 'pending' | 'safe' | 'bySource', chainId: number, min: bigint, limit = 50_000) {
    return this.redis.zrangebyscore(this.keys[index](chainId), `(${min}`, '+inf', 'LIMIT', 0, limit);
  }

  async removeDeadline(chainId: number, short: string): Promise<void> {
    await this.redis.zrem(this.keys.deadlines(chainId), short);
  }

  /** Deletes dropped records whose retention has ended; returns how many. */
  async collectGarbage(now = Date.now(), limit = 500): Promise<number> {
    return Number(await this.redis.xmsgCollect(this.keys.expiring, now, limit, this.prefix));
  }

  async statusCounts(): Promise<Array<{ executing: string; initiating: string; status: string; count: number }>> {
    const raw = await this.redis.hgetall(this.keys.statusCounts);
    return Object.entries(raw).map(([field, n]) => {
      const [executing = '', initiating = '', status = ''] = field.split('|');
      return { executing, initiating, status, count: Number(n) };
    });
  }
}

function parseRecord(raw: Record<string, string>): MessageRecord {
  return {
    data: JSON.parse(raw.d!) as MessageData,
    status: raw.st as ValidityStatus,
    reason: raw.rs ?? '',
    safety: raw.sf as Safety,
    history: raw.h ? (JSON.parse(raw.h) as HistoryEntry[]) : [],
    marks: Object.keys(raw)
      .filter((k) => k.startsWith('mk:'))
      .map((k) => k.slice(3) as MessageMark),
  };
}
