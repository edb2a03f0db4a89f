import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { DomainEvent, EventHandler } from '../events/types.js';
import type { Metrics } from '../metrics.js';
import { MAX_STALLED_COUNT } from './stalls.js';

export const EVENTS_QUEUE = 'events';

/**
 * Domain events go through a BullMQ queue keyed by the event id: a replica that dies after deciding an event
 * but before handling it leaves the job behind for another, and two replicas deciding the same event make one job.
 */
export class EventOutbox {
  readonly queue: Queue;

  constructor(connection: ConnectionOptions, prefix: string) {
    this.queue = new Queue(EVENTS_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: 20,
        backoff: { type: 'exponential', delay: 1000 },
        // Completed event ids are kept a day so a late duplicate of the same event still collapses into it.
        removeOnComplete: { age: 86_400, count: 50_000 },
        removeOnFail: { age: 7 * 86_400, count: 10_000 },
      },
    });
  }

  async publish(event: DomainEvent): Promise<void> {
    await this.queue.add(event.type, event, { jobId: event.id });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/** Delivers queued events to the handlers, in order of arrival per replica; a handler failure retries the job. */
export function startEventWorker(
  connection: ConnectionOptions,
  prefix: string,
  handlers: EventHandler[],
  metrics: Metrics,
  log: Logger,
): Worker {
  const worker = new Worker<DomainEvent>(
    EVENTS_QUEUE,
    async (job) => {
      for (const handler of handlers) await handler.onEvent(job.data);
      metrics.events.inc({ type: job.data.type });
    },
    { connection, prefix, concurrency: 8, maxStalledCount: MAX_STALLED_COUNT },
  );
  worker.on('failed', (job, err) => log.error({ err, eventId: job?.id }, 'event handler failed; will retry'));
  return worker;
}

/** The stand-in for the alerting layer: every event as one structured log line. */
export function logEventHandler(log: Logger): EventHandler {
  return {
    async onEvent(event) {
      const level = event.type === 'cross_safety_violation' || event.type === 'status_flip' ? 'error' : 'warn';
      log[level]({ event }, `event ${event.type}`);
    },
  };
}
