import type { Redis } from 'ioredis';
import type { Actor } from '../src/alerts/chat-port.js';

/** Lookups that reach the chains, per person and platform, within one window. */
export const LOOKUPS_PER_WINDOW = 5;
export const LOOKUP_WINDOW_MS = 60_000;

/** Allowed, or refused with the answer to give. */
export type LookupPermit = { ok: true } | { ok: false; retryInS: number; text: string };

/**
 * A per-person limit on `/xmsg status <hash>` lookups of messages xmsg does not track: each one reads thousands of
 * blocks of every chain (XMSG_STATUS_LOOKBACK_BLOCKS), so anyone who may type a command could otherwise keep the
 * RPCs busy. A fixed window in Redis (`…:ratelimit:lookup:<platform>:<user>`: created with its expiry, then
 * counted, in one MULTI), shared by every replica.
 */
export class LookupLimit {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly perWindow = LOOKUPS_PER_WINDOW,
    private readonly windowMs = LOOKUP_WINDOW_MS,
  ) {}

  async take(actor: Pick<Actor, 'platform' | 'userId'>): Promise<LookupPermit> {
    const key = `${this.prefix}:ratelimit:lookup:${actor.platform}:${actor.userId}`;
    const replies = await this.redis.multi().set(key, '0', 'PX', this.windowMs, 'NX').incr(key).pttl(key).exec();
    const count = Number(replies?.[1]?.[1]);
    const ttlMs = Number(replies?.[2]?.[1]);
    if (count <= this.perWindow) return { ok: true };
    const retryInS = Math.max(1, Math.ceil(ttlMs / 1000));
    const window = `${Math.round(this.windowMs / 1000)} s`;
    return {
      ok: false,
      retryInS,
      text: `Lookups on the chains are limited to ${this.perWindow} per person every ${window}; try again in ${retryInS} s. Alerts (\`/xmsg status XM-7\`) and messages xmsg tracks are not limited.`,
    };
  }
}
