import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AlertView, ChatAdapter, ChatUpdate, Mention, ThreadRef } from '../../alerts/chat-port.js';

/** One reply in an alert's console thread. */
export interface ConsoleReply {
  at: number;
  text: string;
  mention?: Mention;
}

/** An alert as the console shows it: the root as last posted or edited by the chat outbox, and its thread. */
export interface ConsoleThread extends AlertView {
  postedAt: number;
  editedAt: number;
  /** Who the root post paged, if anyone (e.g. a consensus bug pages on-call at once). */
  mention?: Mention;
  replies: ConsoleReply[];
}

interface StoredRoot extends AlertView {
  postedAt: number;
  editedAt: number;
  mention?: Mention;
}

/** A channel-level notice (not in an alert's thread), e.g. a silence announced by the chat outbox. */
export interface ConsoleNotice {
  key: string;
  at: number;
  text: string;
}

/** Replies kept per thread (the newest); growth replies are already coalesced by the outbox, so this is a backstop. */
const MAX_REPLIES = 500;
/** Channel notices kept (the newest). */
const MAX_NOTICES = 100;
/** The pub/sub message that says the channel notices changed (alert ids are `XM-n`, so it cannot be one). */
export const NOTICES_CHANGED = 'notices';

export function consoleKeys(prefix: string) {
  return {
    root: (alertId: string) => `${prefix}:console:root:${alertId}`,
    thread: (alertId: string) => `${prefix}:console:thread:${alertId}`,
    /** Keys of the updates already in an alert's thread, so a retried delivery does not reply twice. */
    replied: (alertId: string) => `${prefix}:console:replied:${alertId}`,
    /** Alerts with a console root; score = time of their last write (so entries age out with their keys). */
    index: `${prefix}:console:alerts`,
    /** Channel notices: key → JSON `{ at, text }` (a notice posted again under its key is kept as first posted). */
    notices: `${prefix}:console:notices`,
    /** Pub/sub channel: an alert's console thread changed (message = alert id), for every replica's browsers. */
    changes: `${prefix}:console:changes`,
  };
}

/**
 * The local web console as a chat platform. The "channel" is Redis: the root (the alert view the outbox posts and
 * edits) and the thread replies live under the xmsg prefix with the alert retention as expiry, so every replica
 * serves the same console and it survives restarts. Every write is announced on a pub/sub channel that each
 * replica's console server relays to its browsers.
 */
export class ConsoleAdapter implements ChatAdapter {
  readonly platform = 'console';
  readonly keys: ReturnType<typeof consoleKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionS: number,
  ) {
    this.keys = consoleKeys(prefix);
  }

  async postRoot(view: AlertView, mention?: Mention): Promise<ThreadRef> {
    const id = view.alert.id;
    const now = Date.now();
    // The outbox may post the same root twice after a crash; keyed by alert id, the second post overwrites the first.
    const previous = await this.root(id);
    const root: StoredRoot = { ...view, postedAt: previous?.postedAt ?? now, editedAt: now, ...(mention ? { mention } : {}) };
    await this.write(id, (m) => m.set(this.keys.root(id), JSON.stringify(root), 'EX', this.retentionS));
    return { channel: 'console', id };
  }

  async reply(ref: ThreadRef, update: ChatUpdate): Promise<void> {
    // The outbox runs one delivery at a time per platform, so check-then-write cannot race another reply.
    const key = (update as ChatUpdate & { key?: string }).key;
    if (key !== undefined && (await this.redis.sismember(this.keys.replied(ref.id), key))) return;
    const reply: ConsoleReply = { at: Date.now(), text: update.text, ...(update.mention ? { mention: update.mention } : {}) };
    await this.write(ref.id, (m) => {
      m.rpush(this.keys.thread(ref.id), JSON.stringify(reply))
        .ltrim(this.keys.thread(ref.id), -MAX_REPLIES, -1)
        .expire(this.keys.thread(ref.id), this.retentionS)
        .expire(this.keys.root(ref.id), this.retentionS);
      if (key !== undefined) m.sadd(this.keys.replied(ref.id), key).expire(this.keys.replied(ref.id), this.retentionS);
      return m;
    });
  }

  async editRoot(ref: ThreadRef, view: AlertView): Promise<void> {
    const previous = await this.root(ref.id);
    const now = Date.now();
    const root: StoredRoot = {
      ...view,
      postedAt: previous?.postedAt ?? now,
      editedAt: now,
      ...(previous?.mention ? { mention: previous.mention } : {}),
    };
    await this.write(ref.id, (m) => m.set(this.keys.root(ref.id), JSON.stringify(root), 'EX', this.retentionS));
  }

  async announce(text: string, key: string = randomUUID()): Promise<void> {
    const notice = JSON.stringify({ at: Date.now(), text });
    const results = await this.redis
      .multi()
      .hsetnx(this.keys.notices, key, notice)
      .expire(this.keys.notices, this.retentionS)
      .publish(this.keys.changes, NOTICES_CHANGED)
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
    if ((await this.redis.hlen(this.keys.notices)) > MAX_NOTICES) {
      const oldest = (await this.notices(Number.MAX_SAFE_INTEGER)).slice(MAX_NOTICES).map((n) => n.key);
      if (oldest.length) await this.redis.hdel(this.keys.notices, ...oldest);
    }
  }

  /** The newest `limit` channel notices, newest first. */
  async notices(limit = 20): Promise<ConsoleNotice[]> {
    const all = await this.redis.hgetall(this.keys.notices);
    return Object.entries(all)
      .map(([key, raw]) => ({ key, ...(JSON.parse(raw) as { at: number; text: string }) }))
      .sort((a, b) => b.at - a.at)
      .slice(0, limit);
  }

  /** The newest `limit` console threads (by last change), skipping any whose keys have expired. */
  async threads(limit = 200): Promise<ConsoleThread[]> {
    const now = Date.now();
    await this.redis.zremrangebyscore(this.keys.index, '-inf', now - this.retentionS * 1000);
    const ids = await this.redis.zrevrange(this.keys.index, 0, limit - 1);
    if (!ids.length) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.get(this.keys.root(id)).lrange(this.keys.thread(id), 0, -1);
    const results = (await pipeline.exec()) ?? [];
    const threads: ConsoleThread[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const [rootErr, rawRoot] = results[2 * i] ?? [];
      const [threadErr, rawThread] = results[2 * i + 1] ?? [];
      if (rootErr || threadErr) throw rootErr ?? threadErr;
      if (typeof rawRoot !== 'string') {
        gone.push(id);
        return;
      }
      const root = JSON.parse(rawRoot) as StoredRoot;
      threads.push({ ...root, replies: ((rawThread as string[] | null) ?? []).map((s) => JSON.parse(s) as ConsoleReply) });
    });
    if (gone.length) await this.redis.zrem(this.keys.index, ...gone);
    return threads;
  }

  private async root(alertId: string): Promise<StoredRoot | undefined> {
    const raw = await this.redis.get(this.keys.root(alertId));
    return raw ? (JSON.parse(raw) as StoredRoot) : undefined;
  }

  /** One MULTI: the change, the index entry, then the announcement (published only if the change was applied). */
  private async write(alertId: string, change: (m: ReturnType<Redis['multi']>) => ReturnType<Redis['multi']>): Promise<void> {
    const now = Date.now();
    const m = change(this.redis.multi()).zadd(this.keys.index, now, alertId).publish(this.keys.changes, alertId);
    const results = await m.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }
}
