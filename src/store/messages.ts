import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import type { Identifier } from '../chain/inbox.js';
import type { ChainLog } from '../chain/rpc.js';
import { awaitsPromotion, isSettled, type ValidityStatus } from '../chain/validity.js';
import { type Keys, keys, messageId, msgHashField, shortId } from './keys.js';
import { dataFields, historyEntry, type MessageData, type MessageMark, type MessageRecord, parseRecord, unpackHex } from './record.js';
import { defineScript, loadScripts } from './scripts.js';

// The record's types live with its layout; most of xmsg knows them as the message store's.
export type { HistoryEntry, MessageData, MessageMark, MessageRecord, Safety } from './record.js';

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

// The message record's scripts (src/store/lua/): each change to a record is one of them, so concurrent replicas and
// retried jobs cannot interleave half-done updates, and each reports whether this caller made the change.
const lua = (file: string) => new URL(`./lua/${file}`, import.meta.url);
const isOne = (raw: unknown) => raw === 1;

const createMessage = defineScript(lua('createMessage-6.lua'), {
  keys: ['record', 'msgHashBucket', 'bySource', 'statusCounts', 'pending', 'deadlines'],
  args: [
    'status',
    'reason',
    'historyEntry',
    'statusField',
    'shortId',
    'sourceBlock',
    'settled',
    'executingBlock',
    'deadline',
    'msgHashField',
  ],
  list: 'dataFields',
  reply: isOne,
});

const createMessages = defineScript(lua('createMessages-N.lua'), {
  keys: ['statusCounts', 'pending', 'deadlines'],
  keyList: 'messageKeys',
  args: ['messages'],
  reply: (raw) => (Array.isArray(raw) ? raw.map(isOne) : []),
});

const setMessageStatus = defineScript(lua('setMessageStatus-4.lua'), {
  keys: ['record', 'statusCounts', 'pending', 'deadlines'],
  args: ['status', 'reason', 'historyEntry', 'oldStatusField', 'newStatusField', 'shortId', 'settled', 'executingBlock', 'deadline'],
  reply: (raw) => (typeof raw === 'string' ? (raw as ValidityStatus) : undefined),
});

const promoteMessage = defineScript(lua('promoteMessage-4.lua'), {
  keys: ['record', 'pending', 'safe', 'deadlines'],
  args: ['shortId', 'executingBlock', 'historyEntry'],
  reply: isOne,
});

const dropMessage = defineScript(lua('dropMessage-8.lua'), {
  keys: ['record', 'pending', 'safe', 'deadlines', 'bySource', 'statusCounts', 'expiring', 'msgHashBucket'],
  args: ['shortId', 'safety', 'historyEntry', 'statusField', 'deleteAt', 'msgHashField'],
  reply: isOne,
});

const markMessage = defineScript(lua('markMessage-1.lua'), { keys: ['record'], args: ['mark', 'historyEntry'], reply: isOne });

const forgetMessage = defineScript(lua('forgetMessage-3.lua'), {
  keys: ['expiring', 'record', 'msgHashBucket'],
  args: ['shortId', 'now', 'msgHashField'],
  reply: isOne,
});

/** A record to create: the message, its first verdict and, for a valid one, its promotion deadline (ms). */
export interface NewRecord {
  data: MessageData;
  status: ValidityStatus;
  reason: string;
  deadlineAt: number;
}

/** A status's field in the status counts hash (keys.ts statusCounts). */
const statusField = (d: MessageData, status: ValidityStatus) => `${d.chainId}|${d.identifier.chainId}|${status}`;

/** The tracked executing messages in Redis: reads, and every change as one of the scripts above. */
export class MessageStore {
  readonly keys: Keys;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly droppedRetentionS: number,
  ) {
    loadScripts(redis);
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
    return createMessage.run(this.redis, this.createInput({ data, status, reason, deadlineAt }));
  }

  /**
   * Creates the records of a slice of messages in one script call per executing chain (a slice is one block's: one
   * call), each only if it does not exist; for each, in order, false when it already existed. Measured against one
   * pipeline of the single create script: about a third less Redis CPU per message (docs/ARCHITECTURE.md §1).
   */
  async createMany(records: NewRecord[]): Promise<boolean[]> {
    const created: boolean[] = new Array(records.length);
    const byChain = new Map<number, number[]>();
    for (const [i, r] of records.entries()) {
      const group = byChain.get(r.data.chainId) ?? [];
      group.push(i);
      byChain.set(r.data.chainId, group);
    }
    for (const [chainId, indexes] of byChain) {
      const messageKeys: string[] = [];
      const messages: string[][] = [];
      for (const i of indexes) {
        const m = this.newRecordInput(records[i]!);
        messageKeys.push(m.record, m.msgHashBucket, m.bySource);
        messages.push([
          ...[m.status, m.reason, m.historyEntry, m.statusField, m.shortId, m.sourceBlock, m.settled, m.executingBlock],
          ...[m.deadline, m.msgHashField, ...m.dataFields],
        ]);
      }
      const replies = await createMessages.run(this.redis, {
        statusCounts: this.keys.statusCounts,
        pending: this.keys.pending(chainId),
        deadlines: this.keys.deadlines(chainId),
        messageKeys,
        messages: scriptJson(messages),
      });
      indexes.forEach((i, j) => {
        created[i] = replies[j] === true;
      });
    }
    return created;
  }

  private createInput(r: NewRecord) {
    const { data } = r;
    return {
      ...this.newRecordInput(r),
      statusCounts: this.keys.statusCounts,
      pending: this.keys.pending(data.chainId),
      deadlines: this.keys.deadlines(data.chainId),
    };
  }

  /** What createMessage-6.lua and createMessages-N.lua take of each message: its own keys and values. */
  private newRecordInput({ data, status, reason, deadlineAt }: NewRecord) {
    const short = shortId(data.id);
    return {
      record: this.keys.message(short),
      msgHashBucket: this.keys.msgHashBucket(data.msgHash),
      bySource: this.keys.bySource(Number(data.identifier.chainId)),
      status,
      reason,
      historyEntry: historyEntry(`status ${status}: ${reason}`),
      statusField: statusField(data, status),
      shortId: short,
      sourceBlock: data.identifier.blockNumber,
      settled: isSettled(status) ? '1' : '0',
      executingBlock: data.blockNumber,
      deadline: awaitsPromotion(status) ? String(deadlineAt) : '',
      msgHashField: msgHashField(data.msgHash),
      dataFields: dataFields(data),
    };
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
    return setMessageStatus.run(this.redis, {
      record: this.keys.message(short),
      statusCounts: this.keys.statusCounts,
      pending: this.keys.pending(data.chainId),
      deadlines: this.keys.deadlines(data.chainId),
      status,
      reason,
      historyEntry: historyEntry(`status ${status}: ${reason}`),
      oldStatusField: statusField(data, previous),
      newStatusField: statusField(data, status),
      shortId: short,
      settled: isSettled(status),
      executingBlock: data.blockNumber,
      deadline: awaitsPromotion(status) ? deadlineAt : '',
    });
  }

  /** Unsafe to cross-safe; true for the one caller that moved it. */
  async promote(data: MessageData, safeHead: bigint): Promise<boolean> {
    const short = shortId(data.id);
    return promoteMessage.run(this.redis, {
      record: this.keys.message(short),
      pending: this.keys.pending(data.chainId),
      safe: this.keys.safe(data.chainId),
      deadlines: this.keys.deadlines(data.chainId),
      shortId: short,
      executingBlock: data.blockNumber,
      historyEntry: historyEntry(`safety cross-safe (safe head ${safeHead})`),
    });
  }

  /** Ends tracking. Finalized messages are deleted at once; replaced or reorged ones are kept a while for operators. */
  async drop(record: MessageRecord, safety: 'replaced' | 'reorged' | 'finalized', note: string): Promise<boolean> {
    const d = record.data;
    const short = shortId(d.id);
    return dropMessage.run(this.redis, {
      record: this.keys.message(short),
      pending: this.keys.pending(d.chainId),
      safe: this.keys.safe(d.chainId),
      deadlines: this.keys.deadlines(d.chainId),
      bySource: this.keys.bySource(Number(d.identifier.chainId)),
      statusCounts: this.keys.statusCounts,
      expiring: this.keys.expiring,
      msgHashBucket: this.keys.msgHashBucket(d.msgHash),
      shortId: short,
      safety,
      historyEntry: historyEntry(`safety ${safety}: ${note}`),
      statusField: statusField(d, record.status),
      deleteAt: safety === 'finalized' ? 0 : Date.now() + this.droppedRetentionS * 1000,
      msgHashField: msgHashField(d.msgHash),
    });
  }

  /** Sets a mark; true for the one caller that set it first. */
  async mark(id: string, mark: MessageMark, note: string): Promise<boolean> {
    return markMessage.run(this.redis, { record: this.keys.message(shortId(id)), mark, historyEntry: historyEntry(`${mark}: ${note}`) });
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
    const forget = this.redis.pipeline();
    due.forEach((short, i) => {
      const g = packed[i]?.[1];
      const msgHash = typeof g === 'string' ? unpackHex(g) : undefined;
      forgetMessage.queue(forget, {
        expiring: this.keys.expiring,
        record: this.keys.message(short),
        // A record already gone has no msgHash to unindex: the script is told so by the empty field.
        msgHashBucket: msgHash ? this.keys.msgHashBucket(msgHash) : this.keys.expiring,
        shortId: short,
        now,
        msgHashField: msgHash ? msgHashField(msgHash) : '',
      });
    });
    const replies = (await forget.exec()) ?? [];
    return replies.filter(([err, n]) => !err && forgetMessage.reply(n)).length;
  }

  async statusCounts(): Promise<Array<{ executing: string; initiating: string; status: string; count: number }>> {
    const raw = await this.redis.hgetall(this.keys.statusCounts);
    return Object.entries(raw).map(([field, n]) => {
      const [executing = '', initiating = '', status = ''] = field.split('|');
      return { executing, initiating, status, count: Number(n) };
    });
  }
}

/**
 * The values as JSON for a script's cjson. JSON.stringify writes a lone UTF-16 surrogate as a `\ud800` escape, which
 * cjson refuses: the whole slice would fail, every time. Any text may hold one (a reason, a history note, a hash
 * field from a malformed RPC answer kept as text); as separate arguments such a value was stored with U+FFFD, as it
 * is here. The check is one scan of the JSON; only a slice that has such an escape (or the text "\ud") is redone.
 */
function scriptJson(rows: string[][]): string {
  const json = JSON.stringify(rows);
  return json.includes('\\ud') ? JSON.stringify(rows.map((row) => row.map(wellFormed))) : json;
}

/** `text` with each lone UTF-16 surrogate replaced by U+FFFD, as UTF-8 encoding would. */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
