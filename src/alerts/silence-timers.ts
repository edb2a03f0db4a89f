import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { type Metrics, observeJobs } from '../metrics.js';
import { SILENCE_JOBS, SILENCE_WORKER } from '../queues/defaults.js';

/** A silence's start (of a scheduled window) or its end, due at that time. */
export interface SilenceEdgeJob {
  silenceId: string;
  edge: 'start' | 'end';
}

export interface SilenceTimersDeps {
  connection: ConnectionOptions;
  prefix: string;
  metrics: Metrics;
  log: Logger;
}

/**
 * The start and the end of each silence as delayed BullMQ jobs (`silence-start-S-4`, `silence-end-S-4`), so a
 * silence ends at its end time whatever replica is up then, after restarts too. A job only says the time has come:
 * its handler re-reads the silence and the alerts, and every change it makes is idempotent.
 */
export class SilenceTimers {
  readonly queue: Queue<SilenceEdgeJob>;
  private worker?: Worker<SilenceEdgeJob>;

  constructor(private readonly deps: SilenceTimersDeps) {
    this.queue = new Queue<SilenceEdgeJob>('silences', {
      connection: deps.connection,
      prefix: deps.prefix,
      defaultJobOptions: SILENCE_JOBS,
    });
  }

  start(handler: (job: SilenceEdgeJob) => Promise<void>): void {
    const { connection, prefix, metrics, log } = this.deps;
    this.worker = new Worker<SilenceEdgeJob>('silences', (job) => handler(job.data), { connection, prefix, ...SILENCE_WORKER });
    observeJobs(this.worker, metrics, log);
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
    await this.queue.remove(jobId(silenceId, 'start')).catch(() => undefined);
    const job = await this.queue.getJob(jobId(silenceId, 'end'));
    if (!job)
      await this.add(silenceId, 'end', 0); // its replica died between taking the id and queueing the end
    else if (await job.isDelayed()) await job.promote().catch(() => undefined); // ran meanwhile: nothing to move
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }

  private async add(silenceId: string, edge: SilenceEdgeJob['edge'], delayMs: number): Promise<void> {
    await this.queue.add(edge, { silenceId, edge }, { jobId: jobId(silenceId, edge), delay: Math.max(0, delayMs) });
  }
}

const jobId = (silenceId: string, edge: SilenceEdgeJob['edge']) => `silence-${edge}-${silenceId}`;
