import { ESCALATION_JOBS, ESCALATION_WORKER } from '../queues/defaults.js';
import { DelayedJobs, type DelayedJobsDeps } from '../queues/delayed-jobs.js';

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

export type EscalationTimersDeps = DelayedJobsDeps;

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
  private readonly jobs: DelayedJobs<EscalationJob>;

  constructor(deps: EscalationTimersDeps) {
    this.jobs = new DelayedJobs<EscalationJob>('escalations', deps, { jobs: ESCALATION_JOBS, worker: ESCALATION_WORKER });
  }

  get queue() {
    return this.jobs.queue;
  }

  /** The handler gets the job and its id (jobs queued before steps had a change number are `esc-XM-7-2`). */
  start(handler: (job: EscalationJob, stepId: string) => Promise<void>): void {
    this.jobs.start((job) =>
      handler({ alertId: job.data.alertId, level: job.data.level }, job.id ?? `esc-${job.data.alertId}-${job.data.level}`),
    );
  }

  async schedule(step: EscalationStep, delayMs: number): Promise<void> {
    await this.jobs.add('escalate', { alertId: step.alertId, level: step.level }, stepJobId(step), delayMs);
  }

  /** Best effort: a step that runs anyway finds the alert acknowledged, muted or resolved and does nothing. */
  async cancel(step: EscalationStep): Promise<void> {
    await this.jobs.remove(stepJobId(step));
  }

  close(): Promise<void> {
    return this.jobs.close();
  }
}
