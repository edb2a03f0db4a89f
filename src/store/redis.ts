import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { safeUrl } from '../errors.js';

export interface RedisNode {
  host: string;
  port: number;
}

/** Where xmsg's Redis is: one server by URL, the master a set of Sentinels names, or a Redis Cluster. */
export interface RedisTarget {
  url: string;
  sentinels?: RedisNode[];
  sentinelName?: string;
  /** REDIS_CLUSTER_NODES: some nodes of a Redis Cluster; ioredis learns the rest and the slot map from them. */
  clusterNodes?: RedisNode[];
  /**
   * A connection that was sent a command and hears nothing for this long is cut and made again. A Redis that stops
   * answering without closing its sockets (a frozen host, a network partition, a paused VM) would otherwise hold
   * every command forever; cut, ioredis reconnects, through the Sentinels to the master they promoted meanwhile.
   */
  socketTimeoutMs?: number;
}

/**
 * A connection to xmsg's Redis. With Sentinels, ioredis asks them for the current master and follows a failover;
 * in a Redis Cluster, it follows the slot map and its redirections. The URL then only gives the credentials,
 * database and TLS.
 */
export function connectRedis(target: RedisTarget, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = { ...(target.socketTimeoutMs ? { socketTimeout: target.socketTimeoutMs } : {}), ...extra };
  if (target.clusterNodes?.length) return connectCluster(target.url, target.clusterNodes, options);
  if (!target.sentinels?.length) return new Redis(target.url, options);
  return new Redis({ sentinels: target.sentinels, name: target.sentinelName, ...credentials(target.url), ...options });
}

/**
 * A Redis Cluster connection, typed as the single-node client the rest of xmsg takes. Every command xmsg sends
 * (scripts registered with defineCommand, MULTI, pipelines, pub/sub, PING) is one a Cluster runs the same way,
 * because in Cluster mode every key of a deployment shares one hash tag (config.ts, clusterPrefix): one slot, one
 * node. Per-node commands (SCAN, INFO, MEMORY USAGE, FLUSHDB) would see one random node: xmsg sends none; the devnet
 * and test helpers that SCAN a prefix (src/devnet/redis-keys.ts) take a single node.
 */
function connectCluster(url: string, nodes: RedisNode[], options: RedisOptions): Redis {
  // A Cluster has database 0 only (config.ts refuses another in REDIS_URL).
  const { db: _db, ...auth } = credentials(url);
  const cluster = new Cluster(nodes, {
    // Commands of one tick go out in one write per node, as enableAutoPipelining does on one server.
    enableAutoPipelining: options.enableAutoPipelining ?? false,
    // BullMQ reads maxRetriesPerRequest (null for its blocking connection) from here, as from a Redis's options.
    redisOptions: { ...auth, ...options },
  });
  return cluster as unknown as Redis;
}

function credentials(url: string) {
  const parsed = parseRedisUrl(url);
  return {
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    db: Number(parsed.pathname.slice(1) || 0),
    ...(parsed.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
  };
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
