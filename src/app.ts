import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Client } from 'discord.js';
import type { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import type { CommandDeps } from '../commands/handlers.js';
import { LookupLimit } from '../commands/lookup-limit.js';
import type { ChatAdapter } from './alerts/chat-port.js';
import type { Notifier } from './alerts/notifier.js';
import type { AlertService } from './alerts/service.js';
import { buildAlerting } from './app/alerting.js';
import { healthReporter } from './app/health.js';
import { buildMessages } from './app/messages.js';
import type { Shared } from './app/shared.js';
import { type StopOutcome, stopGracefully } from './app/shutdown.js';
import type { Config } from './config.js';
import { safeLogging } from './errors.js';
import type { EventHandler } from './events/types.js';
import { registerApi } from './http/api.js';
import { HttpServer } from './http/server.js';
import type { CheckQueueData } from './jobs/checker.js';
import { type EventOutbox, logEventHandler, startEventWorker } from './jobs/events-outbox.js';
import { createMetrics, observeJobs } from './metrics.js';
import type { MessageStore } from './store/messages.js';
import { connectRedis } from './store/redis.js';
import { DeploymentWatch } from './watcher/deployment.js';
import { ChainFollower, type FollowerOptions } from './watcher/follower.js';

export type { StopOutcome } from './app/shutdown.js';

export interface AppOptions {
  /** Where domain events go besides the log and the alerting layer (tests, the demo). */
  handlers?: EventHandler[];
  /**
   * Where xmsg logs instead of stdout (tests, the demo). It is used as given: create it with `safeLogging`
   * (src/errors.ts), `pino({ ...safeLogging, … }, destination)`, or credentials in URLs and errors reach its lines.
   */
  logger?: Logger;
  /** Replica identity in chain leases; random by default. */
  owner?: string;
  /** Chat adapters besides the ones the configuration enables (tests). */
  adapters?: ChatAdapter[];
}

/** A running replica: what `main`, the demo and the tests use of it. */
export interface App {
  port: number;
  config: Config;
  log: Logger;
  redis: Redis;
  store: MessageStore;
  outbox: EventOutbox;
  checkQueue: Queue<CheckQueueData>;
  alerts: AlertService;
  notifier: Notifier;
  discordClient?: Client;
  /** Graceful and bounded (XMSG_SHUTDOWN_GRACE_S); a second call returns the first one's outcome. */
  stop(): Promise<StopOutcome>;
}

/**
 * Starts one xmsg replica: HTTP server, check and event workers, and a follower per chain (each active only
 * while this replica holds that chain's lease). Several replicas may run against one Redis. The composition root:
 * it builds every part from the configuration, starts them in order, and stops them in the reverse.
 */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  // Redacted and scrubbed: no token, secret or URL path (API keys, Discord interaction tokens) reaches the log.
  const log = options.logger ?? pino({ ...safeLogging, level: config.logLevel, base: { service: 'xmsg' } });
  // `<replica>|<run>`: with XMSG_REPLICA_ID the replica part outlives a restart, so the run started after a crash
  // knows the chain leases of the run before it as its own (src/watcher/lease.ts).
  const replica = options.owner === undefined && config.replicaId ? `${hostname()}/${config.replicaId}` : undefined;
  const owner = options.owner ?? `${replica ?? process.pid}|${randomUUID().slice(0, 8)}`;
  const { prefix } = config;
  const metrics = createMetrics();
  const { redis, connection } = connect(config, log);
  const shared: Shared = { redis, connection, prefix, metrics, log };

  const { rpcs, store, outbox, checkQueue, checker, crossCheck, safety, lookup, secondOpinion } = buildMessages(config, shared);
  const alerting = buildAlerting(config, shared, { keys: store.keys, extraAdapters: options.adapters ?? [], secondOpinion });
  const { platforms, discord, consoleChat, alertStore, notifier, alerts, failsafe, deploymentId } = alerting;

  const queues = {
    check: checkQueue,
    events: outbox.queue,
    ...(crossCheck ? { 'second-opinion': crossCheck.queue } : {}),
    ...alerting.queues,
  };
  for (const [name, q] of Object.entries(queues)) q.on('error', (err) => log.warn({ err: err.message, queue: name }, 'queue error'));
  const closeQueues = () => Promise.all([outbox.close(), checkQueue.close(), crossCheck?.close(), alerting.close()]);
  const chainIds = config.chains.map((c) => c.chainId);
  const parked = () => notifier.parked();
  const health = healthReporter({ redis, keys: store.keys, chainIds, queues, parked, failsafe: failsafe && (() => failsafe.states()) });
  const commandDeps: CommandDeps = { alerts, lookup, health, deploymentId, failsafe, lookupLimit: new LookupLimit(redis, prefix) };
  const deployment = new DeploymentWatch({ redis, key: store.keys.deployment, outbox, log, onLoss: () => notifier.keepOneAtATime() });

  let started = false;
  const http = new HttpServer(log);
  registerApi(http, { store, alerts: alertStore, redis, metrics, queues, chainIds, started: () => started, apiToken: config.apiToken });
  for (const platform of platforms) platform.mount(http, commandDeps);
  // Listen first: a taken port fails the start before any worker or follower runs.
  const port = await http.listen(config.httpPort, config.httpHost).catch(async (err: unknown) => {
    await closeQueues();
    await Promise.all([redis.quit(), connection.quit()]);
    throw err;
  });

  await deployment.start();
  await notifier.start();
  alerts.start();
  failsafe?.start();
  // The failsafe after the alerts: in automatic mode it tells the violation's alert, opened by then.
  const handlers = [logEventHandler(log), alerts, ...(failsafe ? [failsafe] : []), ...(options.handlers ?? [])];
  const workers = [
    checker.startWorker(connection, prefix, config.checkerConcurrency),
    startEventWorker({ ...shared, handlers }),
    ...(crossCheck ? [crossCheck.startWorker()] : []),
  ];
  for (const w of workers) observeJobs(w, metrics, log);
  await checker.announceUnwatchedChains();
  const followerDeps = { ...shared, keys: store.keys, inbox: config.inbox, checkQueue, safety, outbox, deployment };
  const followers = config.chains.map(
    ({ chainId, declared }) =>
      new ChainFollower(
        { chainId, rpc: rpcs.get(chainId)!, checkChainId: declared, ...followerDeps },
        followerOptions(config, owner, replica),
      ),
  );
  for (const f of followers) f.start();
  for (const platform of platforms) await platform.start();
  started = true;
  log.info({ port, chains: chainIds, owner }, 'xmsg started');

  // Inputs first (the followers, Discord's gateway; what comes over HTTP ends with the server), then the work in flight,
  // then the connections.
  let stopping: Promise<StopOutcome> | undefined;
  const stop = () => {
    started = false;
    return (stopping ??= stopGracefully({
      steps: [
        ['followers', () => Promise.all(followers.map((f) => f.stop()))],
        ['discord gateway', async () => discord?.stop()],
        ['workers (active jobs)', () => Promise.all(workers.map((w) => w.close()))],
        ['console', async () => consoleChat?.stop()],
        ['queues and chat outboxes', () => Promise.all([closeQueues(), http.close()])],
        ['redis', () => Promise.all([redis.quit(), connection.quit()])],
      ],
      graceMs: config.shutdownGraceMs,
      cut: () => {
        redis.disconnect();
        connection.disconnect();
      },
      log,
    }));
  };

  return { port, config, log, redis, store, outbox, checkQueue, alerts, notifier, discordClient: discord?.client, stop };
}

/** The replica's two Redis connections: BullMQ's, and the one every other command goes through. */
function connect(config: Config, log: Logger) {
  // BullMQ needs maxRetriesPerRequest: null so blocking worker commands survive Redis hiccups.
  const connection = connectRedis(config.redis, { maxRetriesPerRequest: null });
  // Commands of concurrent jobs issued in the same tick go out in one socket write (the checker issues many).
  const redis = connectRedis(config.redis, { maxRetriesPerRequest: 20, enableAutoPipelining: true });
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis (queues) connection error'));
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  return { redis, connection };
}

function followerOptions(config: Config, owner: string, replica: string | undefined): FollowerOptions {
  return {
    pollIntervalMs: config.pollIntervalMs,
    startBlocksBack: config.startBlocksBack,
    maxBlockRange: config.maxBlockRange,
    headStallS: config.headStallS,
    failuresBeforeUnhealthy: config.failuresBeforeUnhealthy,
    owner,
    ...(replica ? { replica } : {}),
  };
}
