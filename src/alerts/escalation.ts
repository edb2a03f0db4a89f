import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { MAX_STALLED_COUNT } from '../jobs/stalls.js';
import { type Metrics, observeJobs } from '../metrics.js';

export interface EscalationJob {
  alertId: string;
  level: number;
}

/**
 * Escalation timers as delayed BullMQ jobs, one per alert and level (`esc-XM-7-2`), so replicas and restarts
 * share them. A timer only proposes an escalation: the handler re-checks the alert before paging.
 */
export class EscalationTimers {
  readonly queue: Queue<EscalationJob>;
  private worker?: Worker<EscalationJob>;

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly prefix: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.queue = new Queue<EscalationJob>('escalations', {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: 50,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: 86_400, count: 10_000 },
        removeOnFail: { age: 7 * 86_400 },
      },
    });
  }

  start(handler: (job: EscalationJob) => Promise<void>): void {
    this.worker = new Worker<EscalationJob>('escalations', (job) => handler(job.data), {
      connection: this.connection,
      prefix: this.prefix,
      concurrency: 4,
      maxStalledCount: MAX_STALLED_COUNT,
    });
    observeJobs(this.worker, this.metrics, this.log);
  }

  async schedule(alertId: string, level: number, delayMs: number): Promise<void> {
    await this.queue.add('escalate', { alertId, level }, { jobId: jobId(alertId, level), delay: Math.max(0, delayMs) });
  }

  /** Best effort: a timer that fires anyway finds the alert acknowledged and does nothing. */
  async cancel(alertId: string, level: number): Promise<void> {
    await this.queue.remove(jobId(alertId, level)).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}

const jobId = (alertId: string, level: number) => `esc-${alertId}-${level}`;
