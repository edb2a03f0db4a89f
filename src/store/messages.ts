import type { Redis } from 'ioredis';
import { getAddress, type Hex } from 'viem';
import type { Identifier } from '../chain/inbox.js';
import type { ChainLog } from '../chain/rpc.js';
import { isSettled, type ValidityStatus } from '../chain/validity.js';
import { type Keys, keys, messageId, msgHashField, shortId } from './keys.js';

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

/**
 * The record layout. A message record is one Redis hash kept small enough for Redis's compact listpack encoding:
 * short field names, no field derivable from another (the id is chainId-blockHash-logIndex; the short id is the
 * key), 32-byte hashes and the origin address in base64url, and every value at most 64 bytes
 * (`hash-max-listpack-value`; one longer value would turn the whole hash into a hashtable, about 2.5 times the
 * memory): a longer value, such as a long reason or history note, is stored in 64-byte pieces `name`, `name+1`, …
 *
 *   c chainId   n blockNumber   b blockHash   t blockTimestamp   x txHash   l logIndex   g msgHash   s seenAt
 *   o identifier.origin   in / il / it / ic identifier blockNumber / logIndex / timestamp / chainId
 *   st status   rs reason   sf safety   h1, h2, … history entries "<at ms>|<what>"   mk:<mark> marks
 */
const PIECE = 64;

const LUA_COMMON = `
local function pieces(out, name, v)
  local i = 0
  repeat
    out[#out + 1] = i == 0 and name or (name .. '+' .. i)
    out[#out + 1] = string.sub(v, i * ${PIECE} + 1, (i + 1) * ${PIECE})
    i = i + 1
  until i * ${PIECE} >= #v
  return i
end
local function put(rec, name, v)
  local out = {}
  local i = pieces(out, name, v)
  redis.call('HSET', rec, unpack(out))
  while redis.call('HDEL', rec, name .. '+' .. i) == 1 do i = i + 1 end
end
local function append_history(rec, entry)
  local n = 1
  while redis.call('HEXISTS', rec, 'h' .. n) == 1 do n = n + 1 end
  put(rec, 'h' .. n, entry)
end
local function index_hash(bucket, field, short)
  local cur = redis.call('HGET', bucket, field)
  if not cur then
    redis.call('HSET', bucket, field, short)
    return
  end
  for s in string.gmatch(cur, '[^,]+') do if s == short then return end end
  redis.call('HSET', bucket, field, cur .. ',' .. short)
end
local function unindex_hash(bucket, field, short)
  local cur = redis.call('HGET', bucket, field)
  if not cur then return end
  local rest = {}
  for s in string.gmatch(cur, '[^,]+') do if s ~= short then rest[#rest + 1] = s end end
  if #rest == 0 then redis.call('HDEL', bucket, field) else redis.call('HSET', bucket, field, table.concat(rest, ',')) end
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
  // KEYS: rec, msgHash bucket, bySource, stats, pending, deadlines
  // ARGV: status, reason, history entry, stats field, short id, source block, settled, exec block, deadline,
  //       msgHash field, then the record's data as field/value pairs
  xmsgCreate: {
    numberOfKeys: 6,
    lua: `${LUA_COMMON}${SETTLE}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local out = {}
for i = 11, #ARGV, 2 do pieces(out, ARGV[i], ARGV[i + 1]) end
pieces(out, 'st', ARGV[1])
pieces(out, 'rs', ARGV[2])
pieces(out, 'sf', 'unsafe')
pieces(out, 'h1', ARGV[3])
redis.call('HSET', KEYS[1], unpack(out))
index_hash(KEYS[2], ARGV[10], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
redis.call('HINCRBY', KEYS[4], ARGV[4], 1)
if ARGV[7] == '1' then settle(KEYS[1], KEYS[5], KEYS[6], ARGV[5], ARGV[8], ARGV[9]) end
return 1`,
  },
  // KEYS: rec, stats, pending, deadlines
  // ARGV: new status, reason, history entry, old stats field, new stats field, short id, settled, exec block, deadline
  // Returns the previous status, or false when the record is gone.
  xmsgSetStatus: {
    numberOfKeys: 4,
    lua: `${LUA_COMMON}${SETTLE}
local cur = redis.call('HGET', KEYS[1], 'st')
if not cur then return false end
put(KEYS[1], 'rs', ARGV[2])
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
    lua: `${LUA_COMMON}
if redis.call('HGET', KEYS[1], 'sf') ~= 'unsafe' then return 0 end
redis.call('HSET', KEYS[1], 'sf', 'cross-safe')
append_history(KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1`,
  },
  // KEYS: rec, pending, safe, deadlines, bySource, stats, expiring, msgHash bucket
  // ARGV: short id, new safety, history entry, stats field, delete-at ms (0 = delete now), msgHash field
  // Returns 1 when this call ended the tracking.
  xmsgDrop: {
    numberOfKeys: 8,
    lua: `${LUA_COMMON}
local sf = redis.call('HGET', KEYS[1], 'sf')
if sf ~= 'unsafe' and sf ~= 'cross-safe' then return 0 end
for i = 2, 5 do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('HINCRBY', KEYS[6], ARGV[4], -1)
if ARGV[5] == '0' then
  redis.call('DEL', KEYS[1])
  unindex_hash(KEYS[8], ARGV[6], ARGV[1])
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
    lua: `${LUA_COMMON}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'mk:' .. ARGV[1], '1') == 0 then return 0 end
append_history(KEYS[1], ARGV[2])
return 1`,
  },
  // KEYS: expiring, rec, msgHash bucket; ARGV: short id, now ms, msgHash field ('' when the record is gone).
  // Deletes one dropped record whose retention ended. Returns 1 when it did.
  xmsgForget: {
    numberOfKeys: 3,
    lua: `${LUA_COMMON}
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[2])
if ARGV[3] ~= '' then unindex_hash(KEYS[3], ARGV[3], ARGV[1]) end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1`,
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

const entry = (what: string, at = Date.now()) => `${at}|${what}`;
const statusField = (d: MessageData, status: ValidityStatus) => `${d.chainId}|${d.identifier.chainId}|${status}`;

/** A 0x-hex value as base64url of its bytes when that reads back exactly (lowercase, whole bytes), else `~` and the text. */
function packHex(h: string): string {
  return /^0x(?:[0-9a-f]{2})+$/.test(h) ? Buffer.from(h.slice(2), 'hex').toString('base64url') : `~${h}`;
}

function unpackHex(v: string): Hex {
  return (v.startsWith('~') ? v.slice(1) : `0x${Buffer.from(v, 'base64url').toString('hex')}`) as Hex;
}

/** An address as base64url of its bytes when it is in its checksum form (as decoded logs give it), else `~` and the text. */
function packAddress(a: string): string {
  try {
    if (a.length === 42 && getAddress(a) === a) return Buffer.from(a.slice(2), 'hex').toString('base64url');
  } catch {
    // not an address: kept as it is
  }
  return `~${a}`;
}

function unpackAddress(v: string): Hex {
  return v.startsWith('~') ? (v.slice(1) as Hex) : getAddress(`0x${Buffer.from(v, 'base64url').toString('hex')}`);
}

/** The record fields of a message's data (see the layout above), as field/value pairs. */
function dataFields(d: MessageData): string[] {
  const id = d.identifier;
  return [
    'c',
    String(d.chainId),
    'n',
    d.blockNumber,
    'b',
    packHex(d.blockHash),
    't',
    d.blockTimestamp,
    'x',
    packHex(d.txHash),
    'l',
    String(d.logIndex),
    'g',
    packHex(d.msgHash),
    'o',
    packAddress(id.origin),
    'in',
    id.blockNumber,
    'il',
    id.logIndex,
    'it',
    id.timestamp,
    'ic',
    id.chainId,
    's',
    String(d.seenAt),
  ];
}

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
    return (await this.getMany([shortId(id)])).values().next().value;
  }

  async getMany(shorts: string[]): Promise<Map<string, MessageRecord>> {
    const result = new Map<string, MessageRecord>();
    if (!shorts.length) return result;
    // Separate commands, not a pipeline: the auto-pipelining client sends every read of the tick (those of the
    // other checks running at once too) in one socket write; an explicit pipeline costs one write each.
    const replies = await Promise.all(shorts.map((s) => this.redis.hgetallBuffer(this.keys.message(s))));
    replies.forEach((raw, i) => {
      const rec = parseRecord(raw);
      if (rec) result.set(shorts[i]!, rec);
    });
    return result;
  }

  async byMsgHash(msgHash: Hex): Promise<MessageRecord[]> {
    const field = await this.redis.hget(this.keys.msgHashBucket(msgHash), msgHashField(msgHash));
    if (!field) return [];
    const records = await this.getMany(field.split(','));
    const wanted = msgHash.toLowerCase();
    return [...records.values()].filter((r) => r.data.msgHash.toLowerCase() === wanted).sort((a, b) => a.data.seenAt - b.data.seenAt);
  }

  /** Creates the record; false when it already existed (a retried or duplicated job). */
  async create(data: MessageData, status: ValidityStatus, reason: string, deadlineAt: number): Promise<boolean> {
    const short = shortId(data.id);
    const created = await this.redis.xmsgCreate(
      this.keys.message(short),
      this.keys.msgHashBucket(data.msgHash),
      this.keys.bySource(Number(data.identifier.chainId)),
      this.keys.statusCounts,
      this.keys.pending(data.chainId),
      this.keys.deadlines(data.chainId),
      status,
      reason,
      entry(`status ${status}: ${reason}`),
      statusField(data, status),
      short,
      data.identifier.blockNumber,
      isSettled(status) ? '1' : '0',
      data.blockNumber,
      status === 'valid' ? deadlineAt : '',
      msgHashField(data.msgHash),
      ...dataFields(data),
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
      this.keys.msgHashBucket(d.msgHash),
      short,
      safety,
      entry(`safety ${safety}: ${note}`),
      statusField(d, record.status),
      deleteAt,
      msgHashField(d.msgHash),
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
    const due = await this.redis.zrangebyscore(this.keys.expiring, '-inf', now, 'LIMIT', 0, limit);
    if (!due.length) return 0;
    const read = this.redis.pipeline();
    for (const short of due) read.hget(this.keys.message(short), 'g');
    const packed = (await read.exec()) ?? [];
    const forget = this.redis.pipeline() as unknown as ScriptedRedis;
    due.forEach((short, i) => {
      const g = packed[i]?.[1];
      const msgHash = typeof g === 'string' ? unpackHex(g) : undefined;
      void forget.xmsgForget(
        this.keys.expiring,
        this.keys.message(short),
        msgHash ? this.keys.msgHashBucket(msgHash) : this.keys.expiring,
        short,
        now,
        msgHash ? msgHashField(msgHash) : '',
      );
    });
    const replies = (await (forget as unknown as ReturnType<Redis['pipeline']>).exec()) ?? [];
    return replies.filter(([err, n]) => !err && n === 1).length;
  }

  async statusCounts(): Promise<Array<{ executing: string; initiating: string; status: string; count: number }>> {
    const raw = await this.redis.hgetall(this.keys.statusCounts);
    return Object.entries(raw).map(([field, n]) => {
      const [executing = '', initiating = '', status = ''] = field.split('|');
      return { executing, initiating, status, count: Number(n) };
    });
  }
}

/** A record hash read back: pieces of long values joined (as bytes, then decoded), the data rebuilt. */
function parseRecord(raw: Record<string, Buffer> | null): MessageRecord | undefined {
  if (!raw) return undefined;
  const parts = new Map<string, Buffer[]>();
  for (const [field, value] of Object.entries(raw)) {
    const plus = field.indexOf('+');
    const name = plus < 0 ? field : field.slice(0, plus);
    const piece = plus < 0 ? 0 : Number(field.slice(plus + 1));
    const list = parts.get(name) ?? [];
    list[piece] = value;
    parts.set(name, list);
  }
  const text = (name: string): string | undefined => {
    const list = parts.get(name);
    return list ? Buffer.concat(list.filter((b) => b !== undefined)).toString('utf8') : undefined;
  };
  const st = text('st');
  const c = text('c');
  if (st === undefined || c === undefined) return undefined;
  const req = (name: string) => text(name) ?? '';
  const chainId = Number(c);
  const blockHash = unpackHex(req('b'));
  const logIndex = Number(req('l'));
  const history: HistoryEntry[] = [];
  for (let n = 1; parts.has(`h${n}`); n++) {
    const e = req(`h${n}`);
    const bar = e.indexOf('|');
    history.push({ at: Number(e.slice(0, bar)), what: e.slice(bar + 1) });
  }
  return {
    data: {
      id: messageId(chainId, blockHash, logIndex),
      chainId,
      blockNumber: req('n'),
      blockHash,
      blockTimestamp: req('t'),
      txHash: unpackHex(req('x')),
      logIndex,
      msgHash: unpackHex(req('g')),
      identifier: {
        origin: unpackAddress(req('o')),
        blockNumber: req('in'),
        logIndex: req('il'),
        timestamp: req('it'),
        chainId: req('ic'),
      },
      seenAt: Number(req('s')),
    },
    status: st as ValidityStatus,
    reason: req('rs'),
    safety: req('sf') as Safety,
    history,
    marks: [...parts.keys()].filter((k) => k.startsWith('mk:')).map((k) => k.slice(3) as MessageMark),
  };
}
