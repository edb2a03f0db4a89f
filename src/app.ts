import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Client } from 'discord.js';
import type { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import type { Hex } from 'viem';
import type { CommandDeps } from '../commands/handlers.js';
import { LookupLimit } from '../commands/lookup-limit.js';
import type { ChatAdapter } from './alerts/chat-port.js';
import { EscalationTimers } from './alerts/escalation.js';
import { FAILSAFE_DEFAULTS, FAILSAFE_KINDS, Failsafe } from './alerts/failsafe.js';
import { Notifier } from './alerts/notifier.js';
import { AlertService } from './alerts/service.js';
import { SilenceTimers } from './alerts/silence-timers.js';
import { AlertStore } from './alerts/store.js';
import { healthReporter } from './app/health.js';
import { type StopOutcome, stopGracefully } from './app/shutdown.js';
import { FailsafeAdmin } from './chain/failsafe-admin.js';
import { InteropFilterClient } from './chain/interop-filter.js';
import { ChainRpc } from './chain/rpc.js';
import { SourceBlocks } from './chain/source-blocks.js';
import { askSupernode, describeSecondOpinion, SupernodeClient, SupernodeHeads } from './chain/supernode.js';
import type { ValidityRules } from './chain/validity.js';
import { consolePlatform } from './chat/console/platform.js';
import { discordPlatform } from './chat/discord/platform.js';
import type { ChatPlatform } from './chat/platform.js';
import { slackPlatform } from './chat/slack/platform.js';
import type { Config } from './config.js';
import { safeLogging } from './errors.js';
import type { EventHandler, MessageSnapshot } from './events/types.js';
import { registerApi } from './http/api.js';
import { HttpServer } from './http/server.js';
import { Checker, type CheckerOptions, type CheckQueueData, createCheckQueue } from './jobs/checker.js';
import { EventOutbox, logEventHandler, startEventWorker } from './jobs/events-outbox.js';
import { FilterCrossCheck } from './jobs/filter-cross-check.js';
import { MessageLookup } from './jobs/lookup.js';
import { createMetrics, type Metrics, observeJobs } from './metrics.js';
import { readDeploymentMarker } from './store/deployment.js';
import { MessageStore } from './store/messages.js';
import { connectRedis } from './store/redis.js';
import { DeploymentWatch } from './watcher/deployment.js';
import { ChainFollower, type FollowerOptions } from './watcher/follower.js';
import { SafetyTracker } from './watcher/safety.js';

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
  // What most parts take besides their own collaborators.
  const shared = { redis, connection, prefix, metrics, log };

  // Messages: the chains, their records, the check queue and the events it raises.
  const rpcs = new Map(
    config.chains.map((c) => [c.chainId, new ChainRpc(c.chainId, c.rpcUrl, config.rpc, metrics, { confirmChainId: c.unconfirmed })]),
  );
  const sources = new SourceBlocks(rpcs);
  const rules: ValidityRules = { dependencySet: config.dependencySet, expiryWindowS: config.expiryWindowS };
  const store = new MessageStore(redis, prefix, config.droppedRetentionS);
  const outbox = new EventOutbox(connection, prefix);
  const checkQueue = createCheckQueue(connection, prefix);
  const secondOpinions = secondOpinionsOf(config, metrics);
  const crossCheck =
    config.interopFilterRpc &&
    new FilterCrossCheck({ ...shared, filter: new InteropFilterClient(config.interopFilterRpc, secondOpinions.rpc), store, outbox });
  const afterCheck = crossCheck ? crossCheck.afterCheck.bind(crossCheck) : undefined;
  const checker = new Checker({ ...shared, store, sources, rpcs, outbox, inbox: config.inbox, afterCheck }, checkerOptions(config, rules));
  const safety = new SafetyTracker({ ...shared, store, rpcs, outbox, checkQueue });
  const lookup = new MessageLookup({ rpcs, inbox: config.inbox, sources, rules, store, lookbackBlocks: config.statusLookbackBlocks });

  // Alerts and the chat platforms they go to.
  const platformDeps = { ...shared, redisTarget: config.redis };
  const slack = config.slack && slackPlatform(config.slack, platformDeps);
  const discord = config.discord && discordPlatform(config.discord, platformDeps);
  const consoleChat = config.console && consolePlatform(config.console, platformDeps);
  const platforms = [slack, discord, consoleChat].filter((p): p is ChatPlatform => p !== undefined);
  const alertStore = new AlertStore(redis, prefix, config.alerts.retentionS);
  const adapters = [...platforms.map((p) => p.adapter), ...(options.adapters ?? [])];
  const { chatMaxPerS: maxPerSecond, retentionS } = config.alerts;
  // Read at each use, not from memory: a button or a post must never pair an alert id with the wrong state.
  const deploymentId = async () => (await readDeploymentMarker(redis, store.keys.deployment))?.id;
  const failsafeKinds = config.failsafe ? FAILSAFE_KINDS : undefined;
  const notifier = new Notifier({ ...shared, adapters, store: alertStore, maxPerSecond, retentionS, deploymentId, failsafeKinds });
  const timers = new EscalationTimers(shared);
  const silenceTimers = new SilenceTimers(shared);
  const alerts = new AlertService({
    ...shared,
    store: alertStore,
    notifier,
    timers,
    silenceTimers,
    policy: config.alerts,
    secondOpinion: secondOpinions.secondOpinion,
  });
  const failsafe = config.failsafe && failsafeSwitch(config, { ...shared, alerts: alertStore, notifier });

  const queues = {
    check: checkQueue,
    events: outbox.queue,
    escalations: timers.queue,
    silences: silenceTimers.queue,
    ...notifier.queuesByName(),
    ...(failsafe ? { failsafe: failsafe.queue } : {}),
  };
  for (const [name, q] of Object.entries(queues)) q.on('error', (err) => log.warn({ err: err.message, queue: name }, 'queue error'));
  const closeQueues = () =>
    Promise.all([outbox.close(), checkQueue.close(), notifier.close(), timers.close(), silenceTimers.close(), failsafe?.close()]);
  const chainIds = config.chains.map((c) => c.chainId);
  const commandDeps: CommandDeps = {
    alerts,
    lookup,
    health: healthReporter({
      redis,
      keys: store.keys,
      chainIds,
      queues,
      parked: () => notifier.parked(),
      failsafe: failsafe && (() => failsafe.states()),
    }),
    deploymentId,
    failsafe,
    lookupLimit: new LookupLimit(redis, prefix),
  };
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
  const workers = [
    checker.startWorker(connection, prefix, config.checkerConcurrency),
    // The failsafe after the alerts: in automatic mode it tells the violation's alert, opened by then.
    startEventWorker({ ...shared, handlers: [logEventHandler(log), alerts, ...(failsafe ? [failsafe] : []), ...(options.handlers ?? [])] }),
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

/**
 * The supernodes (XMSG_SUPERNODE_RPCS): asked about each cross-safety violation's block when its alert opens, and for
 * their gauges at scrape time (cached, so a scrape costs them at most one call per poll interval). One retry only: a
 * violation page waits for their answer.
 */
function secondOpinionsOf(config: Config, metrics: Metrics) {
  const rpc = { timeoutMs: config.rpc.timeoutMs, retries: Math.min(1, config.rpc.retries), retryDelayMs: config.rpc.retryDelayMs };
  const supernodes = config.supernodeRpcs.map((url) => new SupernodeClient(url, rpc));
  if (!supernodes.length) return { rpc, secondOpinion: undefined };
  const heads = new SupernodeHeads(supernodes, Math.max(config.pollIntervalMs, 1000));
  metrics.readSupernodeFrom(() => heads.read());
  const secondOpinion = async (m: MessageSnapshot, nodeSafeHead: string | undefined) => {
    const block = { chainId: m.chainId, number: BigInt(m.blockNumber), hash: m.blockHash as Hex, timestamp: BigInt(m.blockTimestamp) };
    return describeSecondOpinion(block, nodeSafeHead, await Promise.all(supernodes.map((s) => askSupernode(s, block))));
  };
  return { rpc, secondOpinion };
}

/** The interop failsafe's switch and watch (src/alerts/failsafe.ts), from XMSG_FAILSAFE_*. */
function failsafeSwitch(config: Config, deps: Omit<ConstructorParameters<typeof Failsafe>[0], 'admins'>): Failsafe {
  const fs = config.failsafe!;
  const admins = fs.rpcs.map((url) => new FailsafeAdmin(url, { secret: fs.secret, timeoutMs: config.rpc.timeoutMs }));
  return new Failsafe(
    { ...deps, admins },
    {
      confirmMs: fs.confirmS * 1000,
      auto: fs.auto,
      pollMs: fs.pollMs,
      retryDelayMs: fs.retryMs,
      attempts: FAILSAFE_DEFAULTS.attempts,
      retentionS: config.alerts.retentionS,
    },
  );
}

function checkerOptions(config: Config, rules: ValidityRules): CheckerOptions {
  return {
    rules,
    promotionDeadlineS: config.promotionDeadlineS,
    pendingDeadlineS: config.pendingDeadlineS,
    retryBaseMs: config.recheck.baseMs,
    retryMaxMs: config.recheck.maxMs,
  };
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
