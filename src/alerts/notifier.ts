import { type ConnectionOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Metrics, observeJobs } from '../metrics.js';
import { CHAT_JOBS, CHAT_MAX_BACKOFF_MS, CHAT_WORKER } from '../queues/defaults.js';
import {
  type AlertView,
  type ChatAdapter,
  ChatRejected,
  ChatRetryLater,
  type ChatUpdate,
  type Mention,
  type ThreadRef,
} from './chat-port.js';
import { KINDS } from './model.js';
import type { AlertStore } from './store.js';

/**
 * One chat action for one alert on one platform. `grew` reports the count as it is when the job runs, so of a
 * burst of growth the first job reports nearly all of it and the rest find nothing new and make no API call.
 */
export type Delivery =
  | { type: 'open'; alertId: string; seq: number; mention?: Mention }
  | { type: 'update'; alertId: string; seq: number; text: string; mention?: Mention }
  | { type: 'grew'; alertId: string; seq: number };

/** How long a delivered reply is remembered so that retries of its job skip it: as long as completed jobs are kept. */
const REPLIED_MARK_S = CHAT_JOBS.removeOnComplete.age;

export interface NotifierDeps {
  /** One outbox queue each, named `chat-<platform>`. */
  adapters: ChatAdapter[];
  store: AlertStore;
  redis: Redis;
  /** For the BullMQ queues and workers (maxRetriesPerRequest: null). */
  connection: ConnectionOptions;
  prefix: string;
  metrics: Metrics;
  log: Logger;
  /** Most deliveries per second on each platform (XMSG_CHAT_MAX_PER_S). */
  maxPerSecond: number;
  /** How long thread references and delivery marks are kept: the alert retention. */
  retentionS: number;
}

/**
 * The chat outbox. Every chat action is a BullMQ job in a per-platform queue that runs one job at a time across
 * all replicas (global concurrency 1), so an alert's root is posted before its replies and replies stay in order.
 * A failure pauses the whole queue (BullMQ manual rate limit) and puts the job back at its head: a chat outage
 * or a 429 delays alerts, never drops or reorders them.
 */
export class Notifier {
  private readonly queues = new Map<string, Queue<Delivery>>();
  private readonly workers: Worker<Delivery>[] = [];

  constructor(private readonly deps: NotifierDeps) {
    for (const a of deps.adapters) {
      this.queues.set(
        a.platform,
        new Queue<Delivery>(`chat-${a.platform}`, { connection: deps.connection, prefix: deps.prefix, defaultJobOptions: CHAT_JOBS }),
      );
    }
  }

  async start(): Promise<void> {
    for (const adapter of this.deps.adapters) this.workers.push(await this.startWorker(adapter));
  }

  private async startWorker(adapter: ChatAdapter): Promise<Worker<Delivery>> {
    const queue = this.queues.get(adapter.platform)!;
    await queue.setGlobalConcurrency(1);
    let failures = 0;
    const worker: Worker<Delivery> = new Worker<Delivery>(
      queue.name,
      async (job) => {
        try {
          await this.deliver(adapter, job.data);
          failures = 0;
        } catch (err) {
          if (err instanceof ChatRejected) throw this.skipped(adapter, job.data, err);
          await this.pause(worker, adapter, err, ++failures);
          throw Worker.RateLimitError();
        }
      },
      {
        connection: this.deps.connection,
        prefix: this.deps.prefix,
        ...CHAT_WORKER,
        limiter: { max: this.deps.maxPerSecond, duration: 1000 },
      },
    );
    observeJobs(worker, this.deps.metrics, this.deps.log);
    return worker;
  }

  /** A delivery the platform will never accept: counted, logged, and failed for good so the queue moves on. */
  private skipped(adapter: ChatAdapter, delivery: Delivery, err: ChatRejected): UnrecoverableError {
    this.deps.metrics.chatDeliveries.inc({ platform: adapter.platform, outcome: 'rejected' });
    this.deps.log.error({ err: err.message, platform: adapter.platform, delivery }, 'chat platform rejected a delivery; skipped');
    return new UnrecoverableError(err.message);
  }

  /** Pauses the platform's whole queue (the job goes back to its head): as long as the platform asked, else backing off. */
  private async pause(worker: Worker<Delivery>, adapter: ChatAdapter, err: unknown, failures: number): Promise<void> {
    const wait =
      err instanceof ChatRetryLater && err.retryAfterMs !== undefined
        ? err.retryAfterMs
        : Math.min(1000 * 2 ** (failures - 1), CHAT_MAX_BACKOFF_MS);
    this.deps.metrics.chatDeliveries.inc({ platform: adapter.platform, outcome: 'retried' });
    this.deps.log.warn(
      { err: (err as Error).message, platform: adapter.platform, waitMs: wait },
      'chat delivery failed; pausing the chat queue and retrying',
    );
    await worker.rateLimit(wait);
  }

  /** The per-platform outbox queues, keyed by queue name, for health and metrics. */
  queuesByName(): Record<string, Queue<Delivery>> {
    return Object.fromEntries([...this.queues.values()].map((q) => [q.name, q]));
  }

  /** Queues the chat side of an alert change on every platform. Job ids make a repeated call a no-op. */
  async notify(delivery: Delivery): Promise<void> {
    for (const [platform, queue] of this.queues) {
      await queue.add(delivery.type, delivery, { jobId: `${platform}-${delivery.alertId}-${delivery.seq}` });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }

  private refKey = (platform: string, alertId: string) => `${this.deps.prefix}:chat:${platform}:${alertId}`;
  private reportedKey = (platform: string, alertId: string) => `${this.deps.prefix}:chat:${platform}:${alertId}:reported`;
  /** When the latest attempt to post an alert's root started (ms), until its ref is stored; platforms with `findRoot` only. */
  private postingKey = (platform: string, alertId: string) => `${this.deps.prefix}:chat:${platform}:${alertId}:posting`;
  private repliedKey = (platform: string, alertId: string, seq: number) => `${this.deps.prefix}:chat:${platform}:${alertId}:replied:${seq}`;

  private async deliver(adapter: ChatAdapter, d: Delivery): Promise<void> {
    const view = await this.view(d.alertId);
    if (!view) return; // expired after retention: nothing left to show
    const platform = adapter.platform;
    let ref = await this.ref(platform, d.alertId);
    const muted = view.alert.silenceId !== '';

    if (!ref) {
      if (muted) return; // a silenced alert has no thread until it is unmuted
      ref = await this.postRoot(adapter, view, d.type === 'open' ? d.mention : undefined);
      await this.deps.redis
        .multi()
        .set(this.refKey(platform, d.alertId), JSON.stringify(ref), 'EX', this.deps.retentionS)
        .set(this.reportedKey(platform, d.alertId), String(view.alert.count), 'EX', this.deps.retentionS)
        .del(this.postingKey(platform, d.alertId))
        .exec();
      this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'posted' });
      if (d.type === 'open') return;
    }
    if (d.type === 'open') return;

    const threadName = `${view.alert.id} ${view.alert.title}`;
    if (d.type === 'grew') {
      const reported = Number((await this.deps.redis.get(this.reportedKey(platform, d.alertId))) ?? 0);
      const delta = view.alert.count - reported;
      if (delta <= 0) return;
      ref = await this.reply(adapter, d.alertId, ref, {
        text: `${delta} more occurrence${delta === 1 ? '' : 's'}: ${view.alert.count} in all. Latest: ${view.alert.detail}`,
        key: `g${d.seq}`,
        threadName,
      });
      await this.deps.redis.set(this.reportedKey(platform, d.alertId), String(view.alert.count), 'EX', this.deps.retentionS);
    } else {
      // A retry after the reply went out but the root edit failed must not post the reply again.
      const replied = this.repliedKey(platform, d.alertId, d.seq);
      if (!(await this.deps.redis.exists(replied))) {
        ref = await this.reply(adapter, d.alertId, ref, { text: d.text, mention: d.mention, key: String(d.seq), threadName });
        await this.deps.redis.set(replied, '1', 'EX', REPLIED_MARK_S);
      }
    }
    await adapter.editRoot(ref, view);
    this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'posted' });
  }

  /**
   * Posts an alert's root once, whatever crashes, on platforms whose posts carry no idempotency key (Slack): each
   * attempt is recorded (its start time) before the post, and an attempt that finds an earlier one recorded first
   * asks the platform for a root that attempt may have posted without xmsg hearing back, and adopts it. Platforms
   * with idempotent posts (Discord's nonce, the console's key) have no `findRoot` and simply post again.
   */
  private async postRoot(adapter: ChatAdapter, view: AlertView, mention: Mention | undefined): Promise<ThreadRef> {
    if (!adapter.findRoot) return adapter.postRoot(view, mention);
    const platform = adapter.platform;
    const attempt = this.postingKey(platform, view.alert.id);
    const earlier = await this.deps.redis.get(attempt);
    if (earlier !== null) {
      const found = await this.findRoot(adapter, view, Number(earlier));
      if (found) {
        // Posted with the alert as it was then: bring it up to date before the ref is stored (a failure here retries
        // the adoption, not the post).
        await adapter.editRoot(found, view);
        this.deps.log.info({ platform, alertId: view.alert.id, ref: found }, 'adopted the root an interrupted delivery had posted');
        return found;
      }
    }
    // Overwritten on each attempt: a root posted by an attempt before the one just searched would have been found.
    await this.deps.redis.set(attempt, String(Date.now()), 'EX', this.deps.retentionS);
    return adapter.postRoot(view, mention);
  }

  private async findRoot(adapter: ChatAdapter, view: AlertView, since: number): Promise<ThreadRef | undefined> {
    try {
      return await adapter.findRoot!(view, since);
    } catch (err) {
      if (!(err instanceof ChatRejected)) throw err; // transient: retry the delivery rather than risk a second root
      this.deps.log.warn(
        { err: err.message, platform: adapter.platform, alertId: view.alert.id },
        'cannot look for a root an interrupted delivery may have posted; posting (it may show twice)',
      );
      return undefined;
    }
  }

  private async reply(adapter: ChatAdapter, alertId: string, ref: ThreadRef, update: ChatUpdate): Promise<ThreadRef> {
    const completed = await adapter.reply(ref, update);
    if (!completed) return ref;
    await this.deps.redis.set(this.refKey(adapter.platform, alertId), JSON.stringify(completed), 'EX', this.deps.retentionS);
    return completed;
  }

  async ref(platform: string, alertId: string): Promise<ThreadRef | undefined> {
    const raw = await this.deps.redis.get(this.refKey(platform, alertId));
    return raw ? (JSON.parse(raw) as ThreadRef) : undefined;
  }

  private async view(alertId: string): Promise<AlertView | undefined> {
    const alert = await this.deps.store.get(alertId);
    if (!alert) return undefined;
    return { alert, runbook: KINDS[alert.kind].runbook, audit: await this.deps.store.audit(alertId) };
  }
}
