import type { DefaultJobOptions, WorkerOptions } from 'bullmq';

/**
 * How every BullMQ queue of xmsg retries, keeps and hands over its jobs, in one place. Completed and failed jobs are
 * kept by age and count so Redis memory stays bounded under any load (docs/ARCHITECTURE.md §3, bounded memory); a
 * completed job's id also makes a late duplicate of it a no-op while it is kept.
 */

const DAY_S = 86_400;

/**
 * How many times a job may be cut short by its replica dying (kill -9, OOM, a lost node) before BullMQ fails it.
 * BullMQ's default is 1: a second crash during the same job would drop a message check, an alert's event or a chat
 * delivery for good, although replicas may die at any time. A job that kills every replica running it still ends,
 * after this many crashes.
 */
export const MAX_STALLED_COUNT = 20;

/** Message checks (queue `check`). */
export const CHECK_JOBS = {
  // `future`/`unknown` are retried until they settle; the capped backoff (the checker's worker computes it from
  // XMSG_RECHECK_BASE_MS and XMSG_RECHECK_MAX_MS) makes 10,000 attempts about a week.
  attempts: 10_000,
  backoff: { type: 'capped' },
  removeOnComplete: true,
  removeOnFail: { age: 7 * DAY_S, count: 10_000 },
} satisfies DefaultJobOptions;

/** Domain events (queue `events`). */
export const EVENT_JOBS = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 1000 },
  // Completed event ids are kept a day so a late duplicate of the same event still collapses into it.
  removeOnComplete: { age: DAY_S, count: 50_000 },
  removeOnFail: { age: 7 * DAY_S, count: 10_000 },
} satisfies DefaultJobOptions;
export const EVENT_WORKER = { concurrency: 8, maxStalledCount: MAX_STALLED_COUNT } satisfies Partial<WorkerOptions>;

/**
 * op-interop-filter's second opinions (queue `second-opinion`): one job per checked slice (`filter-<slice job id>`) or
 * message (`filter-<message id>-<status>`). Not kept once done: a slice's job carries the packed slice (up to ~110 KB).
 * A slice checked again while its job waits collapses into it; later, its messages are asked again and their
 * divergences collapse by event id.
 */
export const SECOND_OPINION_JOBS = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * DAY_S, count: 1000 },
} satisfies DefaultJobOptions;
/** One job at a time: with FILTER_CALLS_IN_FLIGHT (src/jobs/filter-cross-check.ts), the most a replica asks at once. */
export const SECOND_OPINION_WORKER = { concurrency: 1, maxStalledCount: MAX_STALLED_COUNT } satisfies Partial<WorkerOptions>;

/** Escalation timers (queue `escalations`): delayed jobs, one per alert and level. */
export const ESCALATION_JOBS = {
  attempts: 50,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: DAY_S, count: 10_000 },
  removeOnFail: { age: 7 * DAY_S },
} satisfies DefaultJobOptions;
export const ESCALATION_WORKER = { concurrency: 4, maxStalledCount: MAX_STALLED_COUNT } satisfies Partial<WorkerOptions>;

/** Silences' starts and ends (queue `silences`): delayed jobs, one per silence and edge, like escalation timers. */
export const SILENCE_JOBS = ESCALATION_JOBS;
export const SILENCE_WORKER = { concurrency: 2, maxStalledCount: MAX_STALLED_COUNT } satisfies Partial<WorkerOptions>;

/** Chat deliveries (queues `chat-<platform>`). A failed attempt is retried by the notifier itself (it pauses the queue). */
export const CHAT_JOBS = {
  removeOnComplete: { age: DAY_S, count: 10_000 },
  removeOnFail: { age: 30 * DAY_S },
} satisfies DefaultJobOptions;

const CHAT_LOCK_MS = 10_000;
export const CHAT_WORKER = {
  concurrency: 1,
  maxStalledCount: MAX_STALLED_COUNT,
  // One delivery at a time holds up the platform's whole queue: when its replica dies, another takes it over within
  // ~15 s instead of BullMQ's default ~60 s (the lock is renewed every 5 s while the delivery runs).
  lockDuration: CHAT_LOCK_MS,
  stalledInterval: CHAT_LOCK_MS / 2,
  // Not a limit on jobs (the notifier spaces API calls itself, and a job that calls nothing costs nothing): BullMQ
  // honours a manual pause of the queue (a 429, an outage) only on a worker that has a limiter.
  limiter: { max: 1_000_000, duration: 1000 },
} satisfies Partial<WorkerOptions>;

/** A chat queue paused after failures waits 1 s, 2 s, 4 s... up to this (unless the platform said how long). */
export const CHAT_MAX_BACKOFF_MS = 60_000;

/**
 * BullMQ priorities of chat jobs (1 runs first; equal priorities in the order queued). New roots and pages go before
 * channel notices, which go before follow-ups: a backlog of follow-ups never holds back a new alert. An alert's own
 * replies still go out in order after its root, because every job of an alert posts all its pending updates in order.
 */
export const CHAT_PRIORITY = { urgent: 1, notice: 2, followUp: 3 } as const;

/**
 * When one alert's thread is gone on a platform (deleted, archived, locked), its deliveries there are tried this
 * many more times, CHAT_GONE_BACKOFF_MS, then twice as long each time, apart; then they are parked and the queue goes
 * on. A deleted root is posted again at once instead (counted too, so a root that keeps vanishing is parked).
 */
export const CHAT_GONE_RETRIES = 3;
export const CHAT_GONE_BACKOFF_MS = 1000;
