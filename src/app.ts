import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Worker } from 'bullmq';
import { Client, GatewayIntentBits } from 'discord.js';
import { type Logger, pino } from 'pino';
import type { HealthReport } from '../commands/handlers.js';
import { EscalationTimers } from './alerts/escalation.js';
import { Notifier } from './alerts/notifier.js';
import { AlertService } from './alerts/service.js';
import { AlertStore } from './alerts/store.js';
import { MessageLookup } from './chain/lookup.js';
import { ChainRpc } from './chain/rpc.js';
import { SourceBlocks } from './chain/source-blocks.js';
import { ConsoleAdapter } from './chat/console/adapter.js';
import { ConsoleServer } from './chat/console/server.js';
import { DiscordAdapter } from './chat/discord/adapter.js';
import { handleGatewayInteractions, mountDiscordHttpInteractions } from './chat/discord/interactions.js';
import { SlackAdapter } from './chat/slack/adapter.js';
import { mountSlackInteractions } from './chat/slack/interactions.js';
import type { ChatAdapter } from './chat/types.js';
import type { Config } from './config.js';
import type { EventHandler } from './events/types.js';
import { registerApi } from './http/api.js';
import { HttpServer } from './http/server.js';
import { Checker, createCheckQueue } from './jobs/checker.js';
import { EventOutbox, logEventHandler, startEventWorker } from './jobs/events-outbox.js';
import { queueDepths } from './jobs/queue-depths.js';
import { SafetyTracker } from './jobs/safety.js';
import { createMetrics, observeJobs } from './metrics.js';
import { MessageStore } from './store/messages.js';
import { connectRedis } from './store/redis.js';
import { ChainFollower } from './watcher/follower.js';

export interface AppOptions {
  /** Where domain events go besides the log; the alerting layer plugs in here. */
  handlers?: EventHandler[];
  logger?: Logger;
  /** Replica identity in chain leases; random by default. */
  owner?: string;
  /** Chat adapters besides the ones the configuration enables (tests). */
  adapters?: ChatAdapter[];
}

/** How a stop ended: every step finished, or the grace period ran out while `stuckAt` was still waiting. */
export type StopOutcome = { clean: true } | { clean: false; stuckAt: string };

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
  const connection = connectRedis(config.redis, { maxRetriesPerRequest: null });
  // Commands of concurrent jobs issued in the same tick go out in one socket write (the checker issues many).
  const redis = connectRedis(config.redis, { maxRetriesPerRequest: 20, enableAutoPipelining: true });
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis (queues) connection error'));
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));

  const rpcs = new Map(config.chains.map((c) => [c.chainId, new ChainRpc(c.chainId, c.rpcUrl, config.rpc, metrics)]));
  const store = new MessageStore(redis, prefix, config.droppedRetentionS);
  const outbox = new EventOutbox(connection, prefix);
  const checkQueue = createCheckQueue(connection, prefix);
  const sources = new SourceBlocks(rpcs);
  const rules = { dependencySet: config.dependencySet, expiryWindowS: config.expiryWindowS };

  const checker = new Checker(
    store,
    sources,
    rpcs,
    outbox,
    {
      rules,
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

  const env = config.env;
  const slack = env.SLACK_BOT_TOKEN
    ? new SlackAdapter({
        token: env.SLACK_BOT_TOKEN,
        channel: env.SLACK_CHANNEL_ID!,
        apiUrl: env.SLACK_API_URL,
        oncallGroupId: env.SLACK_ONCALL_GROUP_ID,
        escalationGroupId: env.SLACK_ESCALATION_GROUP_ID,
      })
    : undefined;
  // Discord: the standard gateway client receives interactions; its REST client (base from DISCORD_API_URL) posts.
  const discordClient = env.DISCORD_BOT_TOKEN
    ? new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: env.DISCORD_API_URL } })
    : undefined;
  discordClient?.rest.setToken(env.DISCORD_BOT_TOKEN!);
  const discord = discordClient
    ? new DiscordAdapter(discordClient.rest, {
        channel: env.DISCORD_CHANNEL_ID!,
        token: env.DISCORD_BOT_TOKEN!,
        oncallRoleId: env.DISCORD_ONCALL_ROLE_ID,
      })
    : undefined;
  const discordPermissions = { oncallRoleId: env.DISCORD_ONCALL_ROLE_ID, adminRoleIds: env.DISCORD_ADMIN_ROLE_IDS };
  // The local web console (XMSG_CONSOLE=1): a chat platform kept in Redis, served on this HTTP server.
  const consoleChat = env.XMSG_CONSOLE ? new ConsoleAdapter(redis, prefix, config.alerts.retentionS) : undefined;
  const adapters: ChatAdapter[] = [
    ...(slack ? [slack] : []),
    ...(discord ? [discord] : []),
    ...(consoleChat ? [consoleChat] : []),
    ...(options.adapters ?? []),
  ];
  const alertStore = new AlertStore(redis, prefix, config.alerts.retentionS);
  const notifier = new Notifier(
    adapters,
    alertStore,
    redis,
    connection,
    prefix,
    metrics,
    log,
    config.alerts.chatMaxPerS,
    config.alerts.retentionS,
  );
  const timers = new EscalationTimers(connection, prefix, metrics, log);
  const alerts = new AlertService(alertStore, notifier, timers, config.alerts, metrics, log);
  const lookup = new MessageLookup(rpcs, config.inbox, sources, rules, store, config.statusLookbackBlocks);
  const queues = { check: checkQueue, events: outbox.queue, escalations: timers.queue, ...notifier.queuesByName() };
  for (const [name, q] of Object.entries(queues)) q.on('error', (err) => log.warn({ err: err.message, queue: name }, 'queue error'));
  const health = async (): Promise<HealthReport> => ({
    chains: await Promise.all(
      config.chains.map(async ({ chainId }) => {
        const [heads, cursor, h] = await Promise.all([
          redis.hgetall(store.keys.heads(chainId)),
          redis.hget(store.keys.cursor(chainId), 'number'),
          redis.hgetall(store.keys.health(chainId)),
        ]);
        return {
          chainId,
          latest: heads.latest,
          safe: heads.safe,
          finalized: heads.finalized,
          cursor: cursor ?? undefined,
          healthy: h.healthy !== '0',
          reason: h.reason,
        };
      }),
    ),
    queues: await queueDepths(queues),
  });
  const commandDeps = { alerts, lookup, health };
  const consoleServer = consoleChat ? new ConsoleServer(consoleChat, commandDeps, config.redis, log) : undefined;

  let started = false;
  const http = new HttpServer(log);
  registerApi(http, {
    store,
    alerts: alertStore,
    redis,
    metrics,
    queues,
    chainIds: config.chains.map((c) => c.chainId),
    started: () => started,
  });
  if (env.SLACK_BOT_TOKEN) {
    mountSlackInteractions(
      http,
      {
        token: env.SLACK_BOT_TOKEN,
        signingSecret: env.SLACK_SIGNING_SECRET!,
        apiUrl: env.SLACK_API_URL,
        oncallGroupId: env.SLACK_ONCALL_GROUP_ID,
        adminUserIds: env.SLACK_ADMIN_USER_IDS,
      },
      commandDeps,
      log,
    );
  }
  consoleServer?.mount(http);
  if (discordClient && env.DISCORD_PUBLIC_KEY) {
    mountDiscordHttpInteractions(
      http,
      env.DISCORD_PUBLIC_KEY,
      env.DISCORD_APPLICATION_ID!,
      discordClient.rest,
      discordPermissions,
      commandDeps,
      log,
    );
  }
  // Listen first: a taken port fails the start before any worker or follower runs.
  const port = await http.listen(config.httpPort).catch(async (err: unknown) => {
    await Promise.all([outbox.close(), checkQueue.close(), notifier.close(), timers.close()]);
    await Promise.all([redis.quit(), connection.quit()]);
    throw err;
  });

  await notifier.start();
  await consoleServer?.start();
  alerts.start();
  const workers: Worker[] = [
    checker.startWorker(connection, prefix, config.checkerConcurrency),
    startEventWorker(connection, prefix, [logEventHandler(log), alerts, ...(options.handlers ?? [])], metrics, log),
  ];
  for (const w of workers) observeJobs(w, metrics, log);
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

  for (const f of followers) f.start();
  if (discordClient) {
    handleGatewayInteractions(discordClient, discordPermissions, commandDeps, log);
    discordClient.on('error', (err) => log.warn({ err: err.message }, 'discord client error'));
    // Not awaited: a gateway outage must not hold up alerting; discord.js reconnects by itself.
    discordClient.login(env.DISCORD_BOT_TOKEN).catch((err: Error) => log.error({ err: err.message }, 'discord login failed'));
  }
  started = true;
  log.info({ port, chains: config.chains.map((c) => c.chainId), owner }, 'xmsg started');

  let stopping: Promise<StopOutcome> | undefined;
  /**
   * Graceful: followers stop between steps, workers finish their active jobs, then connections close. Bounded by
   * XMSG_SHUTDOWN_GRACE_S: a step still waiting then (a Redis that went away, a job stuck on a dead node) is named in
   * a warning and the connections are cut; the jobs it held are taken over by another replica once their locks lapse.
   */
  const stop = () =>
    (stopping ??= (async (): Promise<StopOutcome> => {
      started = false;
      let step = 'followers';
      const graceful = (async () => {
        await Promise.all(followers.map((f) => f.stop()));
        step = 'discord gateway';
        await discordClient?.destroy();
        step = 'workers (active jobs)';
        await Promise.all(workers.map((w) => w.close()));
        step = 'console';
        await consoleServer?.close();
        step = 'queues and chat outboxes';
        await Promise.all([outbox.close(), checkQueue.close(), notifier.close(), timers.close(), http.close()]);
        step = 'redis';
        await Promise.all([redis.quit(), connection.quit()]);
      })();
      const graceOver = new AbortController();
      const finished = await Promise.race([
        graceful.then(() => true),
        delay(config.shutdownGraceMs, false, { signal: graceOver.signal, ref: false }),
      ]).finally(() => graceOver.abort());
      if (finished) {
        log.info('xmsg stopped');
        return { clean: true };
      }
      graceful.catch(() => undefined);
      log.warn({ step, graceS: config.shutdownGraceMs / 1000 }, 'shutdown still waiting after the grace period; cutting connections');
      redis.disconnect();
      connection.disconnect();
      return { clean: false, stuckAt: step };
    })());

  return {
    port,
    owner,
    config,
    log,
    metrics,
    redis,
    store,
    outbox,
    checkQueue,
    followers,
    alerts,
    notifier,
    commandDeps,
    discordClient,
    stop,
  };
}
