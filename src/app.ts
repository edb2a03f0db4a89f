import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { ChainRpc } from './chain/rpc.js';
import { SourceBlocks } from './chain/source-blocks.js';
import type { Config } from './config.js';
import type { EventHandler } from './events/types.js';
import { registerApi } from './http/api.js';
import { HttpServer } from './http/server.js';
import { Checker, createCheckQueue } from './jobs/checker.js';
import { EventOutbox, logEventHandler, startEventWorker } from './jobs/events-outbox.js';
import { SafetyTracker } from './jobs/safety.js';
import { createMetrics } from './metrics.js';
import { MessageStore } from './store/messages.js';
import { ChainFollower } from './watcher/follower.js';

export interface AppOptions {
  /** Where domain events go besides the log; the alerting layer plugs in here. */
  handlers?: EventHandler[];
  logger?: Logger;
  /** Replica identity in chain leases; random by default. */
  owner?: string;
}

export type App = Awaited<ReturnType<typeof startApp>>;

/**
 * Starts one xmsg replica: HTTP server, check and event workers, and a follower per chain (each active only
 * while this replica holds that chain's lease). Several replicas may run against one Redis.
 */
export async function startApp(config: Config, options: AppOptions = {}) {
  const log = options.logger ?? pino({ level: config.logLevel, base: { service: 'xmsg' } });
  const owner = options.owner ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  const metrics = createMetrics();
  const prefix = config.prefix;

  // BullMQ needs maxRetriesPerRequest: null so blocking worker commands survive Redis hiccups.
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 20 });
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis (queues) connection error'));
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));

  const rpcs = new Map(config.chains.map((c) => [c.chainId, new ChainRpc(c.chainId, c.rpcUrl, config.rpc, metrics)]));
  const store = new MessageStore(redis, prefix, config.droppedRetentionS);
  const outbox = new EventOutbox(connection, prefix);
  const checkQueue = createCheckQueue(connection, prefix);
  const sources = new SourceBlocks(rpcs);

  const checker = new Checker(
    store,
    sources,
    rpcs,
    outbox,
    {
      rules: { dependencySet: config.dependencySet, expiryWindowS: config.expiryWindowS },
      promotionDeadlineS: config.promotionDeadlineS,
      pendingDeadlineS: config.pendingDeadlineS,
      retryBaseMs: config.recheck.baseMs,
      retryMaxMs: config.recheck.maxMs,
    },
    log,
  );
  const finalizedOf = async (chainId: number) => {
    const n = await redis.hget(store.keys.heads(chainId), 'finalized');
    return n == null ? undefined : BigInt(n);
  };
  const safety = new SafetyTracker(store, rpcs, outbox, checkQueue, finalizedOf, log);

  const workers: Worker[] = [
    checker.startWorker(connection, prefix, config.checkerConcurrency),
    startEventWorker(connection, prefix, [logEventHandler(log), ...(options.handlers ?? [])], metrics, log),
  ];
  const followers = config.chains.map(
    (c) =>
      new ChainFollower(c.chainId, rpcs.get(c.chainId)!, redis, store.keys, config.inbox, checkQueue, safety, outbox, metrics, log, {
        pollIntervalMs: config.pollIntervalMs,
        startBlocksBack: config.startBlocksBack,
        maxBlockRange: config.maxBlockRange,
        headStallS: config.headStallS,
        failuresBeforeUnhealthy: config.failuresBeforeUnhealthy,
        owner,
      }),
  );

  let started = false;
  const http = new HttpServer(log);
  registerApi(http, { store, redis, metrics, chainIds: config.chains.map((c) => c.chainId), started: () => started });
  const port = await http.listen(config.httpPort);
  for (const f of followers) f.start();
  started = true;
  log.info({ port, chains: config.chains.map((c) => c.chainId), owner }, 'xmsg started');

  let stopping: Promise<void> | undefined;
  /** Graceful: followers stop between steps, workers finish their active jobs, then connections close. */
  const stop = () =>
    (stopping ??= (async () => {
      started = false;
      await Promise.all(followers.map((f) => f.stop()));
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([outbox.close(), checkQueue.close(), http.close()]);
      await Promise.all([redis.quit(), connection.quit()]);
      log.info('xmsg stopped');
    })());

  return { port, owner, config, log, metrics, redis, store, outbox, checkQueue, followers, stop };
}
