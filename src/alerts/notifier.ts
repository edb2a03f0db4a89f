import { type ConnectionOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Metrics, observeJobs } from '../metrics.js';
import { CHAT_GONE_BACKOFF_MS, CHAT_GONE_RETRIES, CHAT_JOBS, CHAT_MAX_BACKOFF_MS, CHAT_PRIORITY, CHAT_WORKER } from '../queues/defaults.js';
import { loadScripts } from '../store/scripts.js';
import {
  type AlertView,
  type ChatAdapter,
  ChatGone,
  ChatRejected,
  ChatRetryLater,
  type Mention,
  pages,
  type ThreadRef,
} from './chat-port.js';
import { KINDS } from './model.js';
import { queueChatUpdate, takeChatSlot } from './outbox-scripts.js';
import type { AlertStore } from './store.js';

/**
 * One change of one alert for the chat platforms. `update` carries a text for the alert's thread (with `mention`, a
 * page); `grew` says the count went up; `open` asks for the root. Every job of an alert posts everything of that
 * alert still pending when it runs (updates merged into one reply, growth as the count is then), so of a burst the
 * first job reports nearly all of it and the rest find nothing new and make no API call.
 */
export type Delivery =
  | { type: 'open'; alertId: string; seq: number; mention?: Mention }
  | { type: 'update'; alertId: string; seq: number; text: string; mention?: Mention }
  | { type: 'grew'; alertId: string; seq: number };

/** A channel-level notice for every platform (e.g. a silence), posted once per id. */
export interface Notice {
  /** Names the notice: announcing the same id again (another replica, a retry) posts nothing more. */
  id: string;
  text: string;
}

/** An alert whose deliveries on one platform are parked: its thread there kept failing. */
export interface ParkedAlert {
  platform: string;
  alertId: string;
  /** When it was parked (ms). */
  at: number;
  /** The platform's last answer. */
  reason: string;
}

/** What a chat queue's job carries: an alert change, a notice, or the next try of an alert whose thread failed. */
type ChatJob = Delivery | { type: 'announce'; notice: Notice } | { type: 'retry'; alertId: string };

/** An update waiting in an alert's pending set on one platform (stored as JSON; its seq is also the score). */
interface PendingUpdate {
  seq: number;
  text: string;
  mention?: Mention;
}

/**
 * One reply in an alert's thread: a page on its own, or follow-ups merged (the growth as of then at its end).
 * Recorded before it is posted, so that a delivery cut short posts exactly this again, under the same key.
 */
interface Reply {
  /** Unique among the alert's replies on the platform: Discord's nonce and the console's dedup key come from it. */
  key: string;
  text: string;
  mention?: Mention;
  threadName: string;
  /** The pending entries (as stored) and seqs it delivers. */
  members: string[];
  seqs: number[];
  /** The alert's count it reports, when it reports growth. */
  count?: number;
  /**
   * When its latest attempt started (ms), recorded with it: set only once it was tried, so a reply recorded with it
   * is a retry, which first looks for what that attempt may have posted without xmsg hearing back.
   */
  startedAt?: number;
}

/** How many pending updates one delivery reads; more wait for the alert's next job. */
const MAX_UPDATES_READ = 1000;
/** Merged follow-ups longer than this are cut, with a count of the rest (Discord takes 2,000 characters a message). */
const MERGED_TEXT_MAX = 1500;
/** How long posted updates' seqs are remembered against repeats: as long as completed jobs are kept. */
const DONE_KEPT_MS = CHAT_JOBS.removeOnComplete.age * 1000;
/** The seq of the note a reposted root's thread opens with: below every change's seq, so it comes first. */
const REPOST_NOTE_SEQ = 0;

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
  /** Most posts per second on each platform (XMSG_CHAT_MAX_PER_S); root edits and lookups have as many of their own. */
  maxPerSecond: number;
  /** How long thread references and delivery marks are kept: the alert retention. */
  retentionS: number;
  /** The deployment id Redis holds now, read at each delivery: the alert buttons carry it (src/store/deployment.ts). */
  deploymentId?: () => Promise<string | undefined>;
  /** The alert kinds whose roots offer "Enable failsafe"; none when the failsafe is not configured. */
  failsafeKinds?: ReadonlySet<string>;
}

/**
 * The chat outbox (docs/ARCHITECTURE.md §3). Every chat action is a BullMQ job in a per-platform queue that runs one
 * job at a time across all replicas (global concurrency 1). New roots and pages run first, then notices, then
 * follow-ups; each job of an alert posts its root if missing, then everything of that alert still pending, in order,
 * so an alert's replies follow its root in order whichever of its jobs runs first. API calls (not jobs) are spaced by
 * XMSG_CHAT_MAX_PER_S. A failure of the platform pauses the whole queue (BullMQ manual rate limit) and puts the job
 * back at the head of its priority: an outage or a 429 delays alerts, never drops or reorders them. A failure of one
 * alert's thread (deleted, archived, locked) is retried a few times on its own, then that alert is parked there and
 * the queue goes on; a deleted root is posted again with a note.
 */
export class Notifier {
  private readonly queues = new Map<string, Queue<ChatJob>>();
  private readonly workers: Worker<ChatJob>[] = [];
  /** Least ms between two calls of one kind on one platform. */
  private readonly callIntervalMs: number;

  constructor(private readonly deps: NotifierDeps) {
    loadScripts(deps.redis);
    this.callIntervalMs = Math.ceil(1000 / deps.maxPerSecond);
    for (const a of deps.adapters) {
      this.queues.set(
        a.platform,
        new Queue<ChatJob>(`chat-${a.platform}`, { connection: deps.connection, prefix: deps.prefix, defaultJobOptions: CHAT_JOBS }),
      );
    }
    deps.metrics.readChatParkedFrom(() => this.parkedCounts());
  }

  async start(): Promise<void> {
    for (const adapter of this.deps.adapters) this.workers.push(await this.startWorker(adapter));
  }

  /**
   * Sets each chat queue to one job at a time across replicas again: the setting lives in Redis, so a state loss
   * (docs/ARCHITECTURE.md §3) takes it, and replicas would then post in parallel and out of order.
   */
  async keepOneAtATime(): Promise<void> {
    for (const queue of this.queues.values()) await queue.setGlobalConcurrency(1);
  }

  private async startWorker(adapter: ChatAdapter): Promise<Worker<ChatJob>> {
    const queue = this.queues.get(adapter.platform)!;
    await queue.setGlobalConcurrency(1);
    let failures = 0;
    const worker: Worker<ChatJob> = new Worker<ChatJob>(
      queue.name,
      async (job) => {
        try {
          await this.run(adapter, job.data);
          failures = 0;
        } catch (err) {
          if (err instanceof ChatRejected) throw this.skipped(adapter, job.data, err);
          await this.pause(worker, adapter, err, ++failures);
          throw Worker.RateLimitError();
        }
      },
      { connection: this.deps.connection, prefix: this.deps.prefix, ...CHAT_WORKER },
    );
    observeJobs(worker, this.deps.metrics, this.deps.log);
    return worker;
  }

  private async run(adapter: ChatAdapter, job: ChatJob): Promise<void> {
    switch (job.type) {
      case 'announce':
        return this.postNotice(adapter, job.notice);
      case 'retry':
        return this.deliver(adapter, job.alertId, { retry: true });
      case 'open':
        return this.deliver(adapter, job.alertId, { mention: job.mention });
      case 'update':
        // Normally queued by notify already; again here for a job queued without it (before a crash in between).
        await this.queueUpdate(adapter.platform, job);
        return this.deliver(adapter, job.alertId, {});
      case 'grew':
        return this.deliver(adapter, job.alertId, {});
    }
  }

  /** A delivery the platform will never accept: counted, logged, and failed for good so the queue moves on. */
  private skipped(adapter: ChatAdapter, job: ChatJob, err: ChatRejected): UnrecoverableError {
    this.deps.metrics.chatDeliveries.inc({ platform: adapter.platform, outcome: 'rejected' });
    this.deps.log.error({ err: err.message, platform: adapter.platform, job }, 'chat platform rejected a delivery; skipped');
    return new UnrecoverableError(err.message);
  }

  /** Pauses the platform's whole queue (the job goes back to its head): as long as the platform asked, else backing off. */
  private async pause(worker: Worker<ChatJob>, adapter: ChatAdapter, err: unknown, failures: number): Promise<void> {
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
  queuesByName(): Record<string, Queue> {
    return Object.fromEntries([...this.queues.values()].map((q) => [q.name, q]));
  }

  /**
   * Queues the chat side of an alert change on every platform: an update joins the alert's pending updates, and a
   * job makes sure it goes out: urgent for a root or a page; for a follow-up, one waiting job per alert at most
   * (BullMQ deduplication, keeping one more while that job runs), as any job of the alert posts all that is pending.
   * Job ids make a repeated call a no-op.
   */
  async notify(delivery: Delivery): Promise<void> {
    const urgent = delivery.type === 'open' || (delivery.type === 'update' && pages(delivery.mention));
    for (const [platform, queue] of this.queues) {
      if (delivery.type === 'update') await this.queueUpdate(platform, delivery);
      const jobId = `${platform}-${delivery.alertId}-${delivery.seq}`;
      await queue.add(
        delivery.type,
        delivery,
        urgent
          ? { jobId, priority: CHAT_PRIORITY.urgent }
          : {
              jobId,
              priority: CHAT_PRIORITY.followUp,
              deduplication: { id: `${delivery.alertId}-follow-up`, keepLastIfActive: true },
            },
      );
    }
  }

  /**
   * Posts a notice in every platform's channel (not in an alert's thread), once per notice id: a second call, from
   * this replica or another, posts nothing more. Through the same outboxes, after new roots and pages.
   */
  async announce(notice: Notice): Promise<void> {
    for (const [platform, queue] of this.queues) {
      const job: ChatJob = { type: 'announce', notice };
      await queue.add('announce', job, { jobId: `${platform}-notice-${encodeURIComponent(notice.id)}`, priority: CHAT_PRIORITY.notice });
    }
  }

  /** Alerts whose deliveries are parked, on every platform, oldest first (for `/xmsg health` and the console). */
  async parked(): Promise<ParkedAlert[]> {
    const all: ParkedAlert[] = [];
    for (const platform of this.queues.keys()) {
      const index = this.parkedIndexKey(platform);
      await this.deps.redis.zremrangebyscore(index, '-inf', Date.now() - this.deps.retentionS * 1000);
      const ids = await this.deps.redis.zrange(index, '0', '-1');
      if (!ids.length) continue;
      const raws = await this.deps.redis.mget(ids.map((id) => this.key(platform, id, 'parked')));
      const gone: string[] = [];
      ids.forEach((alertId, i) => {
        const raw = raws[i];
        if (!raw) gone.push(alertId);
        else all.push({ platform, alertId, ...(JSON.parse(raw) as { at: number; reason: string }) });
      });
      if (gone.length) await this.deps.redis.zrem(index, ...gone);
    }
    return all.sort((a, b) => a.at - b.at);
  }

  private async parkedCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = Object.fromEntries([...this.queues.keys()].map((p) => [p, 0]));
    for (const p of await this.parked()) counts[p.platform] = (counts[p.platform] ?? 0) + 1;
    return counts;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }

  /** `…:chat:<platform>:<XM-n>` (the root's thread reference) and the alert's other outbox keys beside it. */
  private key = (platform: string, alertId: string, part?: string) =>
    `${this.deps.prefix}:chat:${platform}:${alertId}${part ? `:${part}` : ''}`;
  private parkedIndexKey = (platform: string) => `${this.deps.prefix}:chat:${platform}:parked`;
  private noticeKey = (platform: string, id: string) => `${this.deps.prefix}:chat:${platform}:notice:${encodeURIComponent(id)}`;
  /** The start of the notice's latest attempt to post, while none has finished. */
  private noticeAttemptKey = (platform: string, id: string) => `${this.noticeKey(platform, id)}:posting`;
  private slotKey = (platform: string, kind: CallKind) => `${this.deps.prefix}:chat:${platform}:slot:${kind}`;

  private async queueUpdate(platform: string, d: Extract<Delivery, { type: 'update' }>): Promise<void> {
    const update: PendingUpdate = { seq: d.seq, text: d.text, ...(pages(d.mention) ? { mention: d.mention } : {}) };
    await queueChatUpdate.run(this.deps.redis, {
      pending: this.key(platform, d.alertId, 'pending'),
      done: this.key(platform, d.alertId, 'done'),
      seq: d.seq,
      update: JSON.stringify(update),
      ttlS: this.deps.retentionS,
    });
  }

  /** Waits for the platform's next free moment for a call of this kind (shared by every replica), and counts the call. */
  private async slot(platform: string, kind: CallKind): Promise<void> {
    const wait = await takeChatSlot.run(this.deps.redis, { slot: this.slotKey(platform, kind), intervalMs: this.callIntervalMs });
    this.deps.metrics.chatCalls.inc({ platform, kind });
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private async postNotice(adapter: ChatAdapter, notice: Notice): Promise<void> {
    const platform = adapter.platform;
    const posted = this.noticeKey(platform, notice.id);
    // The job id collapses concurrent calls; this mark, calls made after the job itself was removed.
    if (await this.deps.redis.exists(posted)) return;
    const deployment = await this.deps.deploymentId?.();
    if (!(await this.noticePostedBefore(adapter, notice, deployment))) {
      await this.slot(platform, 'post');
      await adapter.announce(notice.text, notice.id, deployment);
    }
    await this.deps.redis.multi().set(posted, '1', 'EX', this.deps.retentionS).del(this.noticeAttemptKey(platform, notice.id)).exec();
    this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'posted' });
  }

  /**
   * Whether an earlier attempt posted this notice without xmsg hearing back, on a platform whose posts carry no
   * idempotency key (Slack), as for roots: each attempt is recorded (its start time) before the post, and only an
   * attempt that finds an earlier one recorded asks the platform.
   */
  private async noticePostedBefore(adapter: ChatAdapter, notice: Notice, deployment: string | undefined): Promise<boolean> {
    if (!adapter.findNotice) return false;
    const attempt = this.noticeAttemptKey(adapter.platform, notice.id);
    const earlier = await this.deps.redis.get(attempt);
    if (earlier !== null) {
      const found = await this.lookFor(adapter, 'a notice', { notice: notice.id }, () =>
        adapter.findNotice!(notice.id, Number(earlier), deployment),
      );
      if (found) {
        this.deps.log.info({ platform: adapter.platform, notice: notice.id }, 'found the notice an interrupted delivery had posted');
        return true;
      }
    }
    // Overwritten on each attempt: a notice posted by an attempt before the one just searched would have been found.
    await this.deps.redis.set(attempt, String(Date.now()), 'EX', this.deps.retentionS);
    return false;
  }

  /**
   * One job of an alert: its root if missing, then whatever of it is pending. A thread gone is retried by a delayed
   * job of its own (the alert's other jobs meanwhile call nothing), a deleted root is posted again at once, and after
   * CHAT_GONE_RETRIES of either the alert is parked on this platform.
   */
  private async deliver(adapter: ChatAdapter, alertId: string, o: { mention?: Mention; retry?: boolean }): Promise<void> {
    const platform = adapter.platform;
    const redis = this.deps.redis;
    if (await redis.exists(this.key(platform, alertId, 'parked'))) {
      await redis.del(this.key(platform, alertId, 'pending'));
      this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'parked' });
      return;
    }
    const goneKey = this.key(platform, alertId, 'gone');
    const gone = await redis.hgetall(goneKey);
    if (gone.retryAt && !o.retry && Date.now() < Number(gone.retryAt)) return; // its retry job posts everything pending then
    let failing = gone.count !== undefined;
    for (;;) {
      try {
        await this.flush(adapter, alertId, o.mention);
        if (failing) await redis.del(goneKey);
        return;
      } catch (err) {
        if (!(err instanceof ChatGone)) throw err;
        failing = true;
        const failures = await redis.hincrby(goneKey, 'count', 1);
        await redis.expire(goneKey, this.deps.retentionS);
        this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'gone' });
        if (failures > CHAT_GONE_RETRIES) return this.park(platform, alertId, err);
        if (err.gone === 'root') {
          await this.forgetRoot(platform, alertId, err);
          continue;
        }
        await this.retryLater(platform, alertId, err, failures);
        return;
      }
    }
  }

  /** Tries an alert whose thread failed again after a backoff, in a job of its own; the queue goes on meanwhile. */
  private async retryLater(platform: string, alertId: string, err: ChatGone, failures: number): Promise<void> {
    const wait = CHAT_GONE_BACKOFF_MS * 2 ** (failures - 1);
    await this.deps.redis.hset(this.key(platform, alertId, 'gone'), 'retryAt', String(Date.now() + wait));
    const job: ChatJob = { type: 'retry', alertId };
    await this.queues.get(platform)!.add('retry', job, {
      jobId: `${platform}-${alertId}-retry-${failures}-${Date.now().toString(36)}`,
      delay: wait,
      priority: CHAT_PRIORITY.followUp,
    });
    this.deps.log.warn({ err: err.message, platform, alertId, waitMs: wait, failures }, "an alert's chat thread failed; retrying it alone");
  }

  /**
   * Stops delivering an alert on one platform: what is pending of it is dropped, and later changes are counted and
   * dropped too. Shown by `/xmsg health`, the console and `xmsg_chat_parked_alerts` until the alert expires.
   */
  private async park(platform: string, alertId: string, err: ChatGone): Promise<void> {
    const at = Date.now();
    const parked = JSON.stringify({ at, reason: err.message });
    await this.deps.redis
      .multi()
      .set(this.key(platform, alertId, 'parked'), parked, 'EX', this.deps.retentionS)
      .zadd(this.parkedIndexKey(platform), at, alertId)
      .del(this.key(platform, alertId, 'pending'), this.key(platform, alertId, 'flushing'), this.key(platform, alertId, 'gone'))
      .exec();
    this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'parked' });
    this.deps.log.error(
      { err: err.message, platform, alertId },
      "an alert's chat thread keeps failing; its deliveries on this platform are parked",
    );
  }

  /** The root was deleted: the next flush posts it again, its thread opening with a note that says so. */
  private async forgetRoot(platform: string, alertId: string, err: ChatGone): Promise<void> {
    const note: PendingUpdate = { seq: REPOST_NOTE_SEQ, text: `The previous root of ${alertId} was deleted; reposted.` };
    await this.deps.redis
      .multi()
      .del(this.key(platform, alertId))
      .incr(this.key(platform, alertId, 'reposts'))
      .expire(this.key(platform, alertId, 'reposts'), this.deps.retentionS)
      .zadd(this.key(platform, alertId, 'pending'), REPOST_NOTE_SEQ, JSON.stringify(note))
      .expire(this.key(platform, alertId, 'pending'), this.deps.retentionS)
      .exec();
    this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'reposted' });
    this.deps.log.warn({ err: err.message, platform, alertId }, "an alert's chat root was deleted; posting it again");
  }

  /**
   * Posts what an alert has pending on one platform: its root if missing (unless silenced: a silenced alert has no
   * thread until it is unmuted, and its updates wait), a reply cut short before, the pending updates merged (a page
   * is a reply of its own, in its place), the growth as of now; then the root edited to match.
   */
  private async flush(adapter: ChatAdapter, alertId: string, mention: Mention | undefined): Promise<void> {
    const platform = adapter.platform;
    const redis = this.deps.redis;
    let ref = await this.ref(platform, alertId);
    // `outdated`: a reply went out and the root edit after it did not (yet), e.g. it failed and this is the retry.
    const [cut, outdated] = await redis.mget(this.key(platform, alertId, 'flushing'), this.key(platform, alertId, 'outdated'));
    let replied = outdated !== null;
    if (cut && ref) {
      ref = await this.postReply(adapter, alertId, ref, JSON.parse(cut) as Reply);
      replied = true;
    }
    // The updates before the alert: the root edit then shows at least every change the replies tell.
    const members = await redis.zrange(this.key(platform, alertId, 'pending'), '0', String(MAX_UPDATES_READ - 1));
    const view = await this.view(alertId);
    if (!view) {
      // Expired after its retention: nothing left to show.
      await redis.del(this.key(platform, alertId, 'pending'), this.key(platform, alertId, 'flushing'));
      return;
    }
    let rootPosted = false;
    if (!ref) {
      if (view.alert.silenceId !== '') return;
      const repost = Number((await redis.get(this.key(platform, alertId, 'reposts'))) ?? 0);
      ref = await this.postRoot(adapter, repost ? { ...view, repost } : view, mention);
      rootPosted = true;
    }
    const reported = Number((await redis.get(this.key(platform, alertId, 'reported'))) ?? view.alert.count);
    for (const reply of await this.compose(platform, view, members, reported)) {
      ref = await this.postReply(adapter, alertId, ref, reply);
      replied = true;
    }
    // A root just posted shows the alert as read above; otherwise the root follows what the replies told.
    if (!replied) return;
    if (!rootPosted) {
      await this.slot(platform, 'edit');
      await adapter.editRoot(ref, view);
    }
    await redis.del(this.key(platform, alertId, 'outdated'));
  }

  /** The replies for an alert's pending updates (read in seq order) and its growth since `reported`. */
  private async compose(platform: string, view: AlertView, members: string[], reported: number): Promise<Reply[]> {
    const alert = view.alert;
    const threadName = `${alert.id} ${alert.title}`;
    const drafts: Array<Omit<Reply, 'key'>> = [];
    let batch: Array<{ member: string; update: PendingUpdate }> = [];
    const closeBatch = () => {
      if (batch.length)
        drafts.push({
          ...merge(
            alert.id,
            batch.map((b) => b.update.text),
          ),
          threadName,
          ...ofBatch(batch),
        });
      batch = [];
    };
    for (const member of members) {
      const update = parseUpdate(member);
      if (!update) {
        // Not an update this outbox wrote: dropped with the next reply rather than blocking the alert.
        batch.push({ member, update: { seq: REPOST_NOTE_SEQ, text: '' } });
        continue;
      }
      if (pages(update.mention)) {
        closeBatch();
        drafts.push({ text: update.text, mention: update.mention, threadName, members: [member], seqs: [update.seq] });
      } else {
        batch.push({ member, update });
      }
    }
    closeBatch();
    const growth = alert.count - reported;
    if (growth > 0) {
      const line = `${growth} more occurrence${growth === 1 ? '' : 's'}: ${alert.count} in all. Latest: ${alert.detail}`;
      const last = drafts.at(-1);
      if (last) Object.assign(last, { text: last.text.trim() ? `${last.text}\n${line}` : line, count: alert.count });
      else drafts.push({ text: line, threadName, members: [], seqs: [], count: alert.count });
    }
    const replies: Reply[] = [];
    for (const d of drafts) {
      if (!d.text.trim() && d.count === undefined) {
        // Only entries that were not updates: nothing to post, just clear them.
        await this.completeReply(platform, alert.id, { ...d, key: '' });
        continue;
      }
      replies.push({ ...d, key: `r${await this.deps.redis.incr(this.key(platform, alert.id, 'replies'))}` });
    }
    if (drafts.length) await this.deps.redis.expire(this.key(platform, alert.id, 'replies'), this.deps.retentionS);
    return replies;
  }

  /**
   * Posts one reply, recorded first so that a delivery cut short posts the same one again (same key) next time; on a
   * platform whose posts carry no idempotency key (Slack), that retry first looks for the reply in the thread.
   */
  private async postReply(adapter: ChatAdapter, alertId: string, ref: ThreadRef, reply: Reply): Promise<ThreadRef> {
    const platform = adapter.platform;
    if (await this.replyPostedBefore(adapter, alertId, ref, reply)) {
      await this.completeReply(platform, alertId, reply);
      this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'posted' });
      return ref;
    }
    const attempt: Reply = { ...reply, startedAt: Date.now() };
    await this.deps.redis.set(this.key(platform, alertId, 'flushing'), JSON.stringify(attempt), 'EX', this.deps.retentionS);
    await this.slot(platform, 'post');
    const completed = await adapter.reply(ref, {
      text: reply.text,
      ...(reply.mention ? { mention: reply.mention } : {}),
      key: reply.key,
      threadName: reply.threadName,
    });
    const next = completed ?? ref;
    await this.completeReply(platform, alertId, reply, completed ? next : undefined);
    this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'posted' });
    return next;
  }

  /** Whether an earlier attempt of this reply (a retry: it has a start) posted it without xmsg hearing back. */
  private async replyPostedBefore(adapter: ChatAdapter, alertId: string, ref: ThreadRef, reply: Reply): Promise<boolean> {
    if (!adapter.findReply || reply.startedAt === undefined || !reply.key) return false;
    const since = reply.startedAt;
    const found = await this.lookFor(adapter, 'a reply', { alertId, reply: reply.key }, () => adapter.findReply!(ref, reply.key, since));
    if (found)
      this.deps.log.info({ platform: adapter.platform, alertId, reply: reply.key }, 'found the reply an interrupted delivery had posted');
    return found === true;
  }

  /** Marks a reply's updates delivered (and its growth reported, and a ref it completed stored), in one transaction. */
  private async completeReply(platform: string, alertId: string, reply: Reply, completedRef?: ThreadRef): Promise<void> {
    const m = this.deps.redis.multi();
    const ttl = this.deps.retentionS;
    if (reply.members.length) m.zrem(this.key(platform, alertId, 'pending'), ...reply.members);
    if (reply.seqs.length) {
      // Remembered as long as a repeat of their change can come (a retried event): a day, so the set stays small.
      const done = this.key(platform, alertId, 'done');
      const now = Date.now();
      m.zadd(done, ...reply.seqs.flatMap((seq) => [now, seq]))
        .zremrangebyscore(done, '-inf', now - DONE_KEPT_MS)
        .expire(done, ttl);
    }
    if (reply.count !== undefined) m.set(this.key(platform, alertId, 'reported'), String(reply.count), 'EX', ttl);
    if (completedRef) m.set(this.key(platform, alertId), JSON.stringify(completedRef), 'EX', ttl);
    if (reply.key) m.set(this.key(platform, alertId, 'outdated'), '1', 'EX', ttl);
    await m.del(this.key(platform, alertId, 'flushing')).exec();
  }

  /**
   * Posts an alert's root and stores its ref. Posted once, whatever crashes, on platforms whose posts carry no
   * idempotency key (Slack): each attempt is recorded (its start time) before the post, and an attempt that finds an
   * earlier one recorded first asks the platform for a root that attempt may have posted without xmsg hearing back,
   * and adopts it. Platforms with idempotent posts (Discord's nonce, the console's key) have no `findRoot` and simply
   * post again.
   */
  private async postRoot(adapter: ChatAdapter, view: AlertView, mention: Mention | undefined): Promise<ThreadRef> {
    const platform = adapter.platform;
    const alertId = view.alert.id;
    const ref = await this.postRootOnce(adapter, view, mention);
    await this.deps.redis
      .multi()
      .set(this.key(platform, alertId), JSON.stringify(ref), 'EX', this.deps.retentionS)
      .set(this.key(platform, alertId, 'reported'), String(view.alert.count), 'EX', this.deps.retentionS)
      .del(this.key(platform, alertId, 'posting'))
      .exec();
    this.deps.metrics.chatDeliveries.inc({ platform, outcome: 'posted' });
    return ref;
  }

  private async postRootOnce(adapter: ChatAdapter, view: AlertView, mention: Mention | undefined): Promise<ThreadRef> {
    const platform = adapter.platform;
    if (!adapter.findRoot) {
      await this.slot(platform, 'post');
      return adapter.postRoot(view, mention);
    }
    const attempt = this.key(platform, view.alert.id, 'posting');
    const earlier = await this.deps.redis.get(attempt);
    if (earlier !== null) {
      const found = await this.lookFor(adapter, 'a root', { alertId: view.alert.id }, () => adapter.findRoot!(view, Number(earlier)));
      if (found) {
        // Posted with the alert as it was then: bring it up to date before the ref is stored (a failure here retries
        // the adoption, not the post).
        await this.slot(platform, 'edit');
        await adapter.editRoot(found, view);
        this.deps.log.info({ platform, alertId: view.alert.id, ref: found }, 'adopted the root an interrupted delivery had posted');
        return found;
      }
    }
    // Overwritten on each attempt: a root posted by an attempt before the one just searched would have been found.
    await this.deps.redis.set(attempt, String(Date.now()), 'EX', this.deps.retentionS);
    await this.slot(platform, 'post');
    return adapter.postRoot(view, mention);
  }

  /**
   * Asks the platform for `what` (a root, a reply, a notice) an interrupted delivery may have posted; undefined when
   * the platform will not let xmsg look, and the caller posts it again.
   */
  private async lookFor<T>(
    adapter: ChatAdapter,
    what: string,
    about: Record<string, string>,
    find: () => Promise<T>,
  ): Promise<T | undefined> {
    try {
      await this.slot(adapter.platform, 'edit');
      return await find();
    } catch (err) {
      if (!(err instanceof ChatRejected)) throw err; // transient: retry the delivery rather than risk posting twice
      this.deps.log.warn(
        { err: err.message, platform: adapter.platform, ...about },
        `cannot look for ${what} an interrupted delivery may have posted; posting (it may show twice)`,
      );
      return undefined;
    }
  }

  async ref(platform: string, alertId: string): Promise<ThreadRef | undefined> {
    const raw = await this.deps.redis.get(this.key(platform, alertId));
    return raw ? (JSON.parse(raw) as ThreadRef) : undefined;
  }

  private async view(alertId: string): Promise<AlertView | undefined> {
    const alert = await this.deps.store.get(alertId);
    if (!alert) return undefined;
    const [audit, deployment] = await Promise.all([this.deps.store.audit(alertId), this.deps.deploymentId?.()]);
    const failsafe = this.deps.failsafeKinds?.has(alert.kind) ?? false;
    return { alert, runbook: KINDS[alert.kind].runbook, audit, ...(deployment ? { deployment } : {}), ...(failsafe ? { failsafe } : {}) };
  }
}

/** What a call spends: `post` (roots, replies, notices: Slack's ~1 message a second per channel) or `edit`. */
type CallKind = 'post' | 'edit';

function parseUpdate(member: string): PendingUpdate | undefined {
  try {
    const u = JSON.parse(member) as Partial<PendingUpdate>;
    return typeof u.seq === 'number' && typeof u.text === 'string' ? (u as PendingUpdate) : undefined;
  } catch {
    return undefined;
  }
}

/** Follow-ups as one reply: one line each, cut at MERGED_TEXT_MAX with a count of the rest (the audit trail has all). */
export function merge(alertId: string, texts: string[]): { text: string } {
  const lines = texts.filter((t) => t.trim() !== '');
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (kept.length && length + line.length + 1 > MERGED_TEXT_MAX) break;
    kept.push(line);
    length += line.length + 1;
  }
  const rest = lines.length - kept.length;
  if (rest > 0) kept.push(`…and ${rest} more update${rest === 1 ? '' : 's'}: the audit trail (\`/xmsg status ${alertId}\`) has them all.`);
  return { text: kept.join('\n') };
}

function ofBatch(batch: Array<{ member: string; update: PendingUpdate }>): Pick<Reply, 'members' | 'seqs'> {
  return { members: batch.map((b) => b.member), seqs: batch.map((b) => b.update.seq).filter((s) => s !== REPOST_NOTE_SEQ) };
}
