import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { DomainEvent, EventHandler } from '../events/types.js';
import type { Metrics } from '../metrics.js';
import { EVENT_JOBS, EVENT_WORKER } from '../queues/defaults.js';

export const EVENTS_QUEUE = 'events';

/**
 * Domain events go through a BullMQ queue keyed by the event id: a replica that dies after deciding an event
 * but before handling it leaves the job behind for another, and two replicas deciding the same event make one job.
 */
export class EventOutbox {
  readonly queue: Queue;

  constructor(connection: ConnectionOptions, prefix: string) {
    this.queue = new Queue(EVENTS_QUEUE, { connection, prefix, defaultJobOptions: EVENT_JOBS });
  }

  async publish(event: DomainEvent): Promise<void> {
    await this.queue.add(event.type, event, { jobId: event.id });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface EventWorkerDeps {
  connection: ConnectionOptions;
  prefix: string;
  /** Called in this order for every event; the alerting layer is one of them. */
  handlers: EventHandler[];
  metrics: Metrics;
  log: Logger;
}

/** Delivers queued events to the handlers, in order of arrival per replica; a handler failure retries the job. */
export function startEventWorker({ connection, prefix, handlers, metrics, log }: EventWorkerDeps): Worker {
  const worker = new Worker<DomainEvent>(
    EVENTS_QUEUE,
    async (job) => {
      for (const handler of handlers) await handler.onEvent(job.data);
      metrics.events.inc({ type: job.data.type });
    },
    { connection, prefix, ...EVENT_WORKER },
  );
  worker.on('failed', (job, err) => log.error({ err, eventId: job?.id }, 'event handler failed; will retry'));
  return worker;
}

/** Every event as one structured log line, whatever the alerting layer makes of it. */
export function logEventHandler(log: Logger): EventHandler {
  return {
    async onEvent(event) {
      const level = event.type === 'cross_safety_violation' || event.type === 'status_flip' ? 'error' : 'warn';
      log[level]({ event }, `event ${event.type}`);
    },
  };
}
