import { type ConnectionOptions, type DefaultJobOptions, type Job, Queue, Worker, type WorkerOptions } from 'bullmq';
import type { Logger } from 'pino';
import { type Metrics, observeJobs } from '../metrics.js';

export interface DelayedJobsDeps {
  connection: ConnectionOptions;
  prefix: string;
  metrics: Metrics;
  log: Logger;
}

/**
 * A queue of delayed jobs with deterministic ids and the worker that runs them when they are due, shared by every
 * replica (docs/ARCHITECTURE.md §3): escalation steps and silence edges. A job only says its time has come; its
 * handler re-reads the state it acts on, and a job added again under the same id collapses into the first.
 */
export class DelayedJobs<T> {
  readonly queue: Queue<T>;
  private worker?: Worker<T>;

  constructor(
    readonly name: string,
    private readonly deps: DelayedJobsDeps,
    private readonly options: { jobs: DefaultJobOptions; worker: Omit<WorkerOptions, 'connection' | 'prefix'> },
  ) {
    this.queue = new Queue<T>(name, { connection: deps.connection, prefix: deps.prefix, defaultJobOptions: options.jobs });
  }

  start(processor: (job: Job<T>) => Promise<void>): void {
    const { connection, prefix, metrics, log } = this.deps;
    this.worker = new Worker<T>(this.name, processor, { connection, prefix, ...this.options.worker });
    observeJobs(this.worker, metrics, log);
  }

  /** Due in `delayMs` (now when not positive); a job with this id already queued or kept makes it a no-op. */
  async add(jobName: string, data: T, jobId: string, delayMs: number): Promise<void> {
    // Queue<T> types the job name from T; these queues' job names are plain labels.
    await (this.queue as Queue).add(jobName, data, { jobId, delay: Math.max(0, delayMs) });
  }

  /** Best effort: a job that runs anyway finds nothing to do. */
  async remove(jobId: string): Promise<void> {
    await this.queue.remove(jobId).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
