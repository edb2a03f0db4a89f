import { Redis, type RedisOptions } from 'ioredis';
import { safeUrl } from '../errors.js';

/** Where xmsg's Redis is: one server by URL, or the master a set of Sentinels names. */
export interface RedisTarget {
  url: string;
  sentinels?: Array<{ host: string; port: number }>;
  sentinelName?: string;
  /**
   * A connection that was sent a command and hears nothing for this long is cut and made again. A Redis that stops
   * answering without closing its sockets (a frozen host, a network partition, a paused VM) would otherwise hold
   * every command forever; cut, ioredis reconnects, through the Sentinels to the master they promoted meanwhile.
   */
  socketTimeoutMs?: number;
}

/**
 * A connection to xmsg's Redis. With Sentinels, ioredis asks them for the current master and follows a failover;
 * the URL then only gives the master's credentials, database and TLS.
 */
export function connectRedis(target: RedisTarget, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = { ...(target.socketTimeoutMs ? { socketTimeout: target.socketTimeoutMs } : {}), ...extra };
  if (!target.sentinels?.length) return new Redis(target.url, options);
  const url = parseRedisUrl(target.url);
  return new Redis({
    sentinels: target.sentinels,
    name: target.sentinelName,
    username: decodeURIComponent(url.username) || undefined,
    password: decodeURIComponent(url.password) || undefined,
    db: Number(url.pathname.slice(1) || 0),
    ...(url.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    ...options,
  });
}

/**
 * The URL parsed, or an error that names it by scheme and host only: Node's own (ERR_INVALID_URL) carries the whole
 * input, password included, into whatever prints it.
 */
function parseRedisUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new Error(`REDIS_URL is not a valid URL (${safeUrl(url)})`);
  }
}
