import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { type Metrics, observeJobs } from '../metrics.js';
import { ESCALATION_JOBS, ESCALATION_WORKER } from '../queues/defaults.js';

export interface EscalationJob {
  alertId: string;
  /** The level the step pages. */
  level: number;
}

/** One escalation step of an alert: the level it pages, set up by the alert's change number `seq`. */
export interface EscalationStep {
  alertId: string;
  level: number;
  seq: number;
}

export interface EscalationTimersDeps {
  connection: ConnectionOptions;
  prefix: string;
  metrics: Metrics;
  log: Logger;
}

/**
 * The step's job id, `esc-XM-7-2-5`: alert, level and the change that set the step up (src/alerts/lua/includes/steps.lua).
 * A retried change sets up the same step, so its job collapses into the first; a level set up again after a silence
 * gets a job of its own, where the kept (completed) job of the first would make BullMQ ignore it.
 */
export const stepJobId = (s: EscalationStep) => `esc-${s.alertId}-${s.level}-${s.seq}`;

/**
 * Escalation steps as delayed BullMQ jobs, so replicas and restarts share them. A step only proposes an escalation:
 * its handler applies it to the alert (refused when it is acknowledged, muted or already past that level), with the
 * job id as the change's event id, so that a step run again after its change (its replica died) pages exactly once.
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

  /** The handler gets the job and its id (jobs queued before steps had a change number are `esc-XM-7-2`). */
  start(handler: (job: EscalationJob, stepId: string) => Promise<void>): void {
    const { connection, prefix, metrics, log } = this.deps;
    this.worker = new Worker<EscalationJob>(
      'escalations',
      (job) => handler({ alertId: job.data.alertId, level: job.data.level }, job.id ?? `esc-${job.data.alertId}-${job.data.level}`),
      { connection, prefix, ...ESCALATION_WORKER },
    );
    observeJobs(this.worker, metrics, log);
  }

  async schedule(step: EscalationStep, delayMs: number): Promise<void> {
    await this.queue.add('escalate', { alertId: step.alertId, level: step.level }, { jobId: stepJobId(step), delay: Math.max(0, delayMs) });
  }

  /** Best effort: a step that runs anyway finds the alert acknowledged, muted or resolved and does nothing. */
  async cancel(step: EscalationStep): Promise<void> {
    await this.queue.remove(stepJobId(step)).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
