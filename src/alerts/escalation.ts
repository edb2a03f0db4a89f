import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { type Metrics, observeJobs } from '../metrics.js';
import { ESCALATION_JOBS, ESCALATION_WORKER } from '../queues/defaults.js';

export interface EscalationJob {
  alertId: string;
  level: number;
}

export interface EscalationTimersDeps {
  connection: ConnectionOptions;
  prefix: string;
  metrics: Metrics;
  log: Logger;
}

/**
 * Escalation timers as delayed BullMQ jobs, one per alert and level (`esc-XM-7-2`), so replicas and restarts
 * share them. A timer only proposes an escalation: the handler re-checks the alert before paging.
 */
export class EscalationTimers {
  readonly queue: Queue<EscalationJob>;
  private worker?: Worker<EscalationJob>;

  constructor(private readonly deps: EscalationTimersDeps) {
    this.queue = new Queue<EscalationJob>('escalations', {
      connection: deps.connection,
      prefix: deps.prefix,
      defaultJobOptions: ESCALATION_JOBS,
    });
  }

  start(handler: (job: EscalationJob) => Promise<void>): void {
    const { connection, prefix, metrics, log } = this.deps;
    this.worker = new Worker<EscalationJob>('escalations', (job) => handler(job.data), { connection, prefix, ...ESCALATION_WORKER });
    observeJobs(this.worker, metrics, log);
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
