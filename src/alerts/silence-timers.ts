import { SILENCE_JOBS, SILENCE_WORKER } from '../queues/defaults.js';
import { DelayedJobs, type DelayedJobsDeps } from '../queues/delayed-jobs.js';

/** A silence's start (of a scheduled window) or its end, due at that time. */
export interface SilenceEdgeJob {
  silenceId: string;
  edge: 'start' | 'end';
}

export type SilenceTimersDeps = DelayedJobsDeps;

/**
 * The start and the end of each silence as delayed BullMQ jobs (`silence-start-S-4`, `silence-end-S-4`), so a
 * silence ends at its end time whatever replica is up then, after restarts too. A job only says the time has come:
 * its handler re-reads the silence and the alerts, and every change it makes is idempotent.
 */
export class SilenceTimers {
  private readonly jobs: DelayedJobs<SilenceEdgeJob>;

  constructor(deps: SilenceTimersDeps) {
    this.jobs = new DelayedJobs<SilenceEdgeJob>('silences', deps, { jobs: SILENCE_JOBS, worker: SILENCE_WORKER });
  }

  get queue() {
    return this.jobs.queue;
  }

  start(handler: (job: SilenceEdgeJob) => Promise<void>): void {
    this.jobs.start((job) => handler(job.data));
  }

  /** Queues the silence's end, and its start when that is later than now. Ids make a repeated call a no-op. */
  async schedule(silence: { id: string; from: number; until: number }, now = Date.now()): Promise<void> {
    if (silence.from > now) await this.add(silence.id, 'start', silence.from - now);
    await this.add(silence.id, 'end', silence.until - now);
  }

  /**
   * Runs the end of a lifted silence now: a delayed end job is moved to the front, so whatever the lifting replica
   * does not finish (it dies midway) is done by a worker. Its start job, if any, is dropped.
   */
  async endNow(silenceId: string): Promise<void> {
    await this.jobs.remove(jobId(silenceId, 'start'));
    const job = await this.queue.getJob(jobId(silenceId, 'end'));
    if (!job)
      await this.add(silenceId, 'end', 0); // its replica died between taking the id and queueing the end
    else if (await job.isDelayed()) await job.promote().catch(() => undefined); // ran meanwhile: nothing to move
  }

  close(): Promise<void> {
    return this.jobs.close();
  }

  private add(silenceId: string, edge: SilenceEdgeJob['edge'], delayMs: number): Promise<void> {
    return this.jobs.add(edge, { silenceId, edge }, jobId(silenceId, edge), delayMs);
  }
}

const jobId = (silenceId: string, edge: SilenceEdgeJob['edge']) => `silence-${edge}-${silenceId}`;
